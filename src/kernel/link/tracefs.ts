/**
 * tracefs: where tracepoint ids live (events/<category>/<name>/id), and
 * trace_pipe. Mounted at /sys/kernel/tracing when nothing is there yet.
 */
import { existsSync, readFileSync } from 'node:fs';
import { NotSupportedError } from '../../errors/index.js';
import { ensureMount } from '../object.js';

export const TRACEFS = '/sys/kernel/tracing';

/** The tracefs root, mounting it first if needed. */
export function tracefs(): string {
  if (!existsSync(`${TRACEFS}/events`)) {
    try {
      ensureMount(TRACEFS, 'tracefs');
    } catch (e) {
      throw new NotSupportedError('tracefs', `cannot mount tracefs at ${TRACEFS}: ${(e as Error).message}`, { cause: e });
    }
  }
  return TRACEFS;
}

/** The id of tracepoint category:name. */
export function tracepointId(category: string, name: string): number {
  if (!/^[\w.-]+$/.test(category) || !/^[\w.-]+$/.test(name)) throw new NotSupportedError(`tracepoint ${category}:${name}`, 'not a valid tracepoint name');
  const path = `${tracefs()}/events/${category}/${name}/id`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new NotSupportedError(`tracepoint ${category}:${name}`, `no ${path}`, { cause: e });
  }
  return Number(text.trim());
}
