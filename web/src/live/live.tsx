import { useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { ApiProblem } from '../api/client';
import type { Area } from '../api/endpoints';
import { followAuditStream, type StreamStatus } from '../api/stream';
import { noticeOf, staleAreas, type Notice } from './invalidation';

interface Live {
  status: StreamStatus;
  problem: ApiProblem | undefined;
  /** The last audit sequence number the stream has seen. */
  head: number | null;
  notices: Notice[];
  dismiss(seq: number): void;
}

const LiveContext = createContext<Live | null>(null);
/** Records often come in bursts (an ingested batch): refresh once per burst. */
const COALESCE_MS = 150;
const KEPT_NOTICES = 5;

/**
 * Follows the audit stream while signed in and refreshes what the console shows: each record
 * invalidates the cached answers of its area, so the pages on screen refetch without a reload.
 */
export function LiveProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<StreamStatus>('connecting');
  const [problem, setProblem] = useState<ApiProblem | undefined>();
  const [head, setHead] = useState<number | null>(null);
  const [notices, setNotices] = useState<Notice[]>([]);
  const pending = useRef(new Set<Area>());

  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      const areas = [...pending.current];
      pending.current.clear();
      for (const area of areas) void queryClient.invalidateQueries({ queryKey: [area] });
    };
    void followAuditStream({
      onReady(after, reconnected) {
        setHead(after);
        // What was fetched before the stream opened may predate records the stream will not
        // send; on a reconnection the server replays what was missed instead.
        if (!reconnected) void queryClient.invalidateQueries({ predicate: (query) => query.queryKey[0] !== 'audit-verify' });
      },
      onAudit(record) {
        setHead(record.seq);
        for (const area of staleAreas(record)) pending.current.add(area);
        timer ??= setTimeout(flush, COALESCE_MS);
        const notice = noticeOf(record);
        if (notice) setNotices((shown) => [notice, ...shown].slice(0, KEPT_NOTICES));
      },
      onStatus(next, refused) {
        setStatus(next);
        setProblem(refused);
      },
    }, controller.signal);
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [queryClient]);

  const value = useMemo<Live>(() => ({
    status, problem, head, notices,
    dismiss: (seq) => setNotices((shown) => shown.filter((n) => n.seq !== seq)),
  }), [status, problem, head, notices]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export function useLive(): Live {
  const live = useContext(LiveContext);
  if (!live) throw new Error('useLive outside LiveProvider');
  return live;
}
