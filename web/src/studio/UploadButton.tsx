// "Upload audio": a visible button that opens the file picker, and the list of uploads
// (progress, cancel, the server's refusal in words). The drop zone (useAudioDrop) feeds
// the same queue.
import { useRef } from "react";
import { ACCEPT_ATTRIBUTE, formatBytes, uploads, useUploads, type UploadItem } from "../audio/upload";
import { useStudio } from "./context";
import "./upload.css";

export function UploadButton() {
  const { api, projectId, canEdit } = useStudio();
  const input = useRef<HTMLInputElement>(null);
  const items = useUploads();

  return (
    <div className="upload">
      <button type="button" onClick={() => input.current?.click()} disabled={!canEdit}>
        <span aria-hidden="true">⤒ </span>Upload audio
      </button>
      <input
        ref={input}
        type="file"
        multiple
        accept={ACCEPT_ATTRIBUTE}
        aria-label="Upload audio files"
        className="sr-only"
        tabIndex={-1}
        disabled={!canEdit}
        onChange={(e) => {
          const files = Array.from(e.currentTarget.files ?? []);
          e.currentTarget.value = "";
          if (files.length) uploads.add(api, projectId, files);
        }}
      />
      {items.length > 0 && (
        <ul className="upload-list" aria-label="Uploads" aria-live="polite">
          {items.map((item) => (
            <UploadRow key={item.id} item={item} />
          ))}
        </ul>
      )}
    </div>
  );
}

const STATUS_TEXT: Record<UploadItem["status"], string> = {
  waiting: "waiting",
  uploading: "uploading",
  processing: "checking on the server",
  done: "uploaded",
  failed: "failed",
  refused: "not sent",
  cancelled: "cancelled",
};

function UploadRow({ item }: { item: UploadItem }) {
  const percent = item.sizeBytes > 0 ? Math.round((item.loadedBytes / item.sizeBytes) * 100) : 0;
  const active = item.status === "waiting" || item.status === "uploading" || item.status === "processing";
  return (
    <li className={`upload-item upload-${item.status}`}>
      <div className="upload-line">
        <span className="upload-name" title={item.fileName}>
          {item.fileName}
        </span>
        <span className="upload-status">
          {item.status === "uploading" ? `${percent}% of ${formatBytes(item.sizeBytes)}` : STATUS_TEXT[item.status]}
        </span>
        {active ? (
          <button
            type="button"
            className="small"
            aria-label={`Cancel upload of ${item.fileName}`}
            onClick={() => uploads.cancel(item.id)}
            disabled={item.status === "processing"}
          >
            Cancel
          </button>
        ) : (
          <button type="button" className="small" aria-label={`Dismiss ${item.fileName}`} onClick={() => uploads.dismiss(item.id)}>
            <span aria-hidden="true">×</span>
          </button>
        )}
      </div>
      {(item.status === "uploading" || item.status === "processing") && (
        <div
          className="upload-bar"
          role="progressbar"
          aria-label={`Upload of ${item.fileName}`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={percent}
          aria-valuetext={item.status === "processing" ? "sent, the server is checking the audio" : `${percent}%`}
        >
          <span style={{ width: `${percent}%` }} />
        </div>
      )}
      {item.error && (
        <p className="error" role="alert">
          {item.error}
        </p>
      )}
    </li>
  );
}
