// A session's User-Agent as a person names it: "Chrome on Linux", "Safari on iPhone".
// Order matters: Edge and Opera also say Chrome, Chrome also says Safari, Android also says Linux.
const BROWSERS: [RegExp, string][] = [
  [/Edg\//, 'Edge'], [/OPR\//, 'Opera'], [/Firefox\//, 'Firefox'], [/(Headless)?Chrome\/|Chromium\//, 'Chrome'],
  [/Safari\//, 'Safari'], [/curl\//, 'curl'], [/python-requests|python-httpx/i, 'Python script'],
]
const SYSTEMS: [RegExp, string][] = [
  [/iPhone/, 'iPhone'], [/iPad/, 'iPad'], [/Android/, 'Android'], [/Windows/, 'Windows'], [/Mac OS X|Macintosh/, 'macOS'],
  [/CrOS/, 'ChromeOS'], [/Linux|X11/, 'Linux'],
]

export function describeUserAgent(agent: string | null | undefined): string {
  if (!agent) return 'Unknown browser'
  const browser = BROWSERS.find(([pattern]) => pattern.test(agent))?.[1]
  const system = SYSTEMS.find(([pattern]) => pattern.test(agent))?.[1]
  if (browser && system) return `${browser} on ${system}`
  return browser ?? system ?? 'Unknown browser'
}
