import { num } from '../lib/format.js';
import { getState } from '../lib/store.js';

/**
 * Daily amounts as bars over days (inline SVG, no chart library): one bar per
 * day from the first to the last, days without any as empty slots; the
 * caption gives the total. With a single day there is nothing to draw over
 * time: the figure and its day are shown plainly. The values are also in a
 * visually hidden table for screen readers.
 */
export function DailyChart({ title, points, format }: { title: string; points: { day: string; value: number }[]; format?: (v: number) => string }) {
  const { lang } = getState();
  const fmt = format ?? ((v: number) => num(v, lang));
  const total = points.reduce((s, p) => s + p.value, 0);
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last || points.length === 1)
    return (
      <figure class="chart single" data-days={points.length}>
        <figcaption>{title}</figcaption>
        <p class="figure">
          <strong>{fmt(total)}</strong>
          {first ? <span class="muted"> · {first.day}</span> : null}
        </p>
      </figure>
    );
  const W = 320;
  const H = 140;
  const pad = { l: 8, r: 8, t: 18, b: 22 };
  const max = Math.max(1, ...points.map((p) => p.value));
  const slot = (W - pad.l - pad.r) / points.length;
  const bw = Math.max(1, slot * 0.8);
  const ys = (v: number) => H - pad.b - (v / max) * (H - pad.t - pad.b);
  return (
    <figure class="chart" data-days={points.length}>
      <figcaption>
        {title}: <strong>{fmt(total)}</strong>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}: ${first.day} – ${last.day}`}>
        <line x1={pad.l} y1={H - pad.b} x2={W - pad.r} y2={H - pad.b} class="axis" />
        {points.map((p, i) =>
          p.value > 0 ? (
            <rect
              key={p.day}
              class="bar"
              data-day={p.day}
              x={(pad.l + i * slot + (slot - bw) / 2).toFixed(1)}
              y={ys(p.value).toFixed(1)}
              width={bw.toFixed(1)}
              height={(H - pad.b - ys(p.value)).toFixed(1)}
            >
              <title>
                {p.day}: {fmt(p.value)}
              </title>
            </rect>
          ) : null,
        )}
        <text x={pad.l} y={H - 6} class="tick">
          {first.day}
        </text>
        <text x={W - pad.r} y={H - 6} class="tick" text-anchor="end">
          {last.day}
        </text>
        <text x={pad.l} y={12} class="tick">
          {fmt(max)}
        </text>
      </svg>
      <table class="sr-only">
        <tbody>
          {points.map((p) => (
            <tr key={p.day}>
              <th scope="row">{p.day}</th>
              <td>{fmt(p.value)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
