// What the runnable stories (network.ts, shanghai.ts) share: a running node and an operator's calls to it.
import type { HubNode } from '@shuniu/hub';

export interface Running {
  label: string;
  node: HubNode;
  url: string;
  token: string;
}

/** An operator write (POST, JSON body) that must answer 201; its answer. */
export async function call(n: Running, path: string, body: unknown): Promise<{ id: string }> {
  const res = await fetch(`${n.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${n.token}` },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { id: string; detail?: string };
  if (res.status !== 201) throw new Error(`${n.label} ${path}: ${res.status} ${json.detail ?? JSON.stringify(json)}`);
  return json;
}

/** Waits until `check` holds, asking every `everyMs`, for at most `seconds`. */
export async function until(what: string, check: () => Promise<boolean>, seconds = 60, everyMs = 200): Promise<void> {
  for (let i = 0; i < (seconds * 1000) / everyMs; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}
