// The upload queue lives above the routes (UploadsProvider in the layout), so uploads go on and
// stay in view (the tray) while the person moves between pages.
import { useQueryClient } from '@tanstack/react-query'
import { createContext, useCallback, useContext, useRef, useState } from 'react'
import { fileKeys } from '../api/files'
import type { FileRead } from '../api/types'
import { uploadFile } from '../api/upload'

export type UploadState = 'queued' | 'uploading' | 'done' | 'duplicate' | 'error'
export type UploadItem = { key: string; name: string; size: number; progress: number; state: UploadState; error?: string; file?: FileRead }
export type Uploads = { uploads: UploadItem[]; add: (picked: FileList | File[]) => void; clearFinished: () => void }

const PARALLEL = 2 // two streams keep the disk busy without starving the api

let counter = 0

export const isActive = (item: UploadItem) => item.state === 'queued' || item.state === 'uploading'

/** A queue of uploads, each with its own progress; at most PARALLEL run at a time. */
export function useUploadQueue(): Uploads {
  const client = useQueryClient()
  const [uploads, setUploads] = useState<UploadItem[]>([])
  const queue = useRef<{ key: string; file: File }[]>([])
  const running = useRef(0)

  const patchItem = useCallback((key: string, change: Partial<UploadItem>) => {
    setUploads((list) => list.map((item) => (item.key === key ? { ...item, ...change } : item)))
  }, [])

  const run = useCallback(async (key: string, file: File) => {
    patchItem(key, { state: 'uploading' })
    try {
      const result = await uploadFile(file, (progress) => patchItem(key, { progress }))
      patchItem(key, { state: result.duplicate ? 'duplicate' : 'done', progress: 1, file: result.file })
      void client.invalidateQueries({ queryKey: fileKeys.all })
    } catch (error) {
      patchItem(key, { state: 'error', error: error instanceof Error ? error.message : String(error) })
    }
  }, [client, patchItem])

  const pump = useCallback(() => {
    const step = (): void => {
      while (running.current < PARALLEL && queue.current.length) {
        const next = queue.current.shift()!
        running.current += 1
        void run(next.key, next.file).finally(() => {
          running.current -= 1
          step()
        })
      }
    }
    step()
  }, [run])

  const add = useCallback((picked: FileList | File[]) => {
    const fresh = Array.from(picked).map((file) => ({ key: `${Date.now()}-${(counter += 1)}`, file }))
    queue.current.push(...fresh)
    setUploads((list) => [
      ...fresh.map(({ key, file }) => ({ key, name: file.name, size: file.size, progress: 0, state: 'queued' as const })).reverse(),
      ...list,
    ])
    pump()
  }, [pump])

  const clearFinished = useCallback(() => setUploads((list) => list.filter(isActive)), [])
  return { uploads, add, clearFinished }
}

export const UploadsContext = createContext<Uploads | null>(null)

export function useUploads(): Uploads {
  const uploads = useContext(UploadsContext)
  if (!uploads) throw new Error('useUploads needs an UploadsProvider above it')
  return uploads
}
