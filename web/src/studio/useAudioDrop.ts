// Dropping audio files on the arrangement uploads them through the page's upload queue.
// Only drags that carry files react (a track or clip being dragged does not).
import { useMemo, useRef, useState } from "react";
import type React from "react";
import { uploads } from "../audio/upload";
import { useStudio } from "./context";

const carriesFiles = (event: React.DragEvent) => Array.from(event.dataTransfer?.types ?? []).includes("Files");

export function useAudioDrop(): { dropProps: React.HTMLAttributes<HTMLElement>; dragging: boolean } {
  const { api, projectId, canEdit } = useStudio();
  const [dragging, setDragging] = useState(false);
  // dragenter/dragleave fire for every child crossed: count them.
  const depth = useRef(0);

  const dropProps = useMemo<React.HTMLAttributes<HTMLElement>>(() => {
    if (!canEdit) return {};
    return {
      onDragEnter: (event) => {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        depth.current += 1;
        setDragging(true);
      },
      onDragOver: (event) => {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = "copy";
      },
      onDragLeave: (event) => {
        if (!carriesFiles(event)) return;
        depth.current = Math.max(0, depth.current - 1);
        if (depth.current === 0) setDragging(false);
      },
      onDrop: (event) => {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        depth.current = 0;
        setDragging(false);
        const files = Array.from(event.dataTransfer.files);
        if (files.length) uploads.add(api, projectId, files);
      },
    };
  }, [api, projectId, canEdit]);

  return { dropProps, dragging };
}

/** The overlay text the arrangement shows while files are dragged over it. */
export const DROP_HINT = "Drop audio files to upload";
