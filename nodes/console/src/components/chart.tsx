import { num } from '../lib/format.js';
import { getState } from '../lib/store.js';

/**
 * A cumulative line over days as inline SVG (no chart library): one series,
 * labelled axes, and the values in a visually hidden table for screen readers.
 */
export function LineChart({ title, points, format }: { title: string; points: { day: string; value: number }[]; format?: (v: number) => string }) {
  const { lang } = getState();
  const fmt = format ?? ((v: number) => num(v, lang));
  const W = 320;
  const H = 140;
  const pad = { l: 8, r: 8, t: 18, b: 22 };
  const max = Math.max(1, ...points.map((p) => p.value));
  const xs = (i: number) => pad.l + (points.length < 2 ? (W - pad.l - pad.r) / 2 : (i / (points.length - 1)) * (W - pad.l - pad.r));
  const ys = (v: number) => H - pad.b - (v / max) * (H - pad.t - pad.b);
  const d = points.map((p, i) => `${i ? 'L' : 'M'}${xs(i).toFixed(1)} ${ys(p.value).toFixed(1)}`).join('');
  const last = points[points.length - 1];
  return (
    <figure class="chart">
      <figcaption>
        {title}: <strong>{last ? fmt(last.value) : '—'}</strong>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        <line x1={pad.l} y1={H - pad.b} x2={W - pad.r} y2={H - pad.b} class="axis" />
        {points.length ? <path d={`${d}L${xs(points.length - 1)} ${H - pad.b}L${xs(0)} ${H - pad.b}Z`} class="area" /> : null}
        {points.length ? <path d={d} class="line" /> : null}
        {points.map((p, i) => (
          <circle key={p.day} cx={xs(i)} cy={ys(p.value)} r="2.5" class="pt" />
        ))}
        {points[0] ? (
          <text x={pad.l} y={H - 6} class="tick">
            {points[0].day}
          </text>
        ) : null}
        {last && points.length > 1 ? (
          <text x={W - pad.r} y={H - 6} class="tick" text-anchor="end">
            {last.day}
          </text>
        ) : null}
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
