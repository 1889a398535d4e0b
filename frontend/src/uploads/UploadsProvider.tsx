import type { ReactNode } from 'react'
import { UploadsContext, useUploadQueue } from './queue'

export function UploadsProvider({ children }: { children: ReactNode }) {
  return <UploadsContext.Provider value={useUploadQueue()}>{children}</UploadsContext.Provider>
}
