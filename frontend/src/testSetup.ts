import { configure } from '@testing-library/dom'

// findBy*/waitFor give up after 1 s by default. A jsdom render on a loaded 2-CPU CI machine
// has taken 1.7 s (FilterSidebar.test.tsx), so the waits get room; a test that never finds its
// element still fails.
configure({ asyncUtilTimeout: 5000 })
