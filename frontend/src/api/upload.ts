// Uploads use XMLHttpRequest because fetch cannot report upload progress.
import { ApiError, apiHref, errorFromBody } from './client'
import type { FileRead } from './types'

export type UploadResult = { file: FileRead; duplicate: boolean }

function parse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

export function uploadFile(
  file: File,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<UploadResult> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', apiHref('/api/v1/files', {}))
    xhr.withCredentials = true
    xhr.setRequestHeader('Accept', 'application/json')
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total)
    }
    xhr.onload = () => {
      const body = parse(xhr.responseText)
      if (xhr.status >= 200 && xhr.status < 300) {
        const read = body as FileRead
        resolve({ file: read, duplicate: xhr.status === 200 || read.duplicate === true })
      } else {
        reject(errorFromBody(xhr.status, body))
      }
    }
    xhr.onerror = () => reject(new ApiError(0, 'network', 'The upload was interrupted (network error).'))
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'Upload cancelled.'))
    signal?.addEventListener('abort', () => xhr.abort())
    const form = new FormData()
    form.append('file', file, file.name)
    xhr.send(form)
  })
}
