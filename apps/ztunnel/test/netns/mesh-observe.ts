// What the netns scenarios read back from a node's ztunnel: access-log records by field, metric samples by
// label (polling until they are written, as the direct tier does with test/helpers/observe.ts).
import { eventually, metricValue } from '../helpers/observe.ts';
import { accessLines, type NetnsMesh } from './harness.ts';

export type LogRecord = Record<string, unknown>;

/** A node's access-log records (scope `access`) whose fields equal every entry of `filter` (harness's accessLines). */
export const accessLog = (mesh: NetnsMesh, node: string, filter: Record<string, unknown> = {}): LogRecord[] =>
  accessLines(mesh, node, filter);

/** Every log record of a node's ztunnel whose text (message or error) contains `text`. */
export function logsMentioning(mesh: NetnsMesh, node: string, text: string): LogRecord[] {
  return mesh
    .ztunnel(node)
    .started.logs()
    .filter((line) => JSON.stringify(line).includes(text));
}

/** Poll a node's access log until a record matching `filter` exists; resolves with the first. */
export async function awaitAccessLog(
  mesh: NetnsMesh,
  node: string,
  filter: Record<string, unknown>,
  timeoutMs = 5000,
): Promise<LogRecord | undefined> {
  const lines = await eventually(
    () => accessLog(mesh, node, filter),
    (found) => found.length > 0,
    timeoutMs,
  );
  return lines[0];
}

/** Poll until any log record of the node mentions `text`; resolves with them. */
export function awaitLogMentioning(mesh: NetnsMesh, node: string, text: string, timeoutMs = 5000) {
  return eventually(
    () => logsMentioning(mesh, node, text),
    (found) => found.length > 0,
    timeoutMs,
  );
}

/** A node's /metrics once `metric{labels}` reaches at least `atLeast`. */
export function awaitMetric(
  mesh: NetnsMesh,
  node: string,
  metric: string,
  labels: Record<string, string>,
  atLeast = 1,
): Promise<string> {
  return eventually(
    () => mesh.ztunnel(node).started.metrics(),
    (text) => metricValue(text, metric, labels) >= atLeast,
  );
}

/** The connections a node's ztunnel has seen so far (opened and early failures), oldest first. */
export function connectionRecords(mesh: NetnsMesh, node: string): LogRecord[] {
  return accessLog(mesh, node).filter(
    (line) => line['message'] === 'connection opened' || line['message'] === 'connection failed',
  );
}

/** How many connections a node's ztunnel has seen so far, to show no loop or storm. */
export function connectionCount(mesh: NetnsMesh, node: string): number {
  return connectionRecords(mesh, node).length;
}

export { metricValue };
