import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import type { IouPoint } from "./maskDiff";

type TipProps = { active?: boolean; payload?: readonly { payload?: IouPoint }[] };

function Tip({ active, payload }: TipProps) {
  const p = active ? payload?.[0]?.payload : undefined;
  if (!p) return null;
  return (
    <div className="rv-tip">
      <b>Frame {p.frame}</b>
      <div>{p.note}</div>
      <div className="muted">
        area {p.areaFrom ?? "—"} → {p.areaTo ?? "—"} px
      </div>
    </div>
  );
}

/** Per-frame IoU between two mask revisions; clicking a frame moves the player there. */
export function IouChart({ points, frame, onSeek }: { points: IouPoint[]; frame: number; onSeek: (frame: number) => void }) {
  return (
    <div className="rv-iou-chart" data-testid="iou-chart">
      <ResponsiveContainer width="100%" height="100%">
        <LineChart
          data={points}
          margin={{ top: 6, right: 10, bottom: 0, left: -18 }}
          onClick={(state) => {
            const index = state?.activeTooltipIndex;
            const k = typeof index === "number" ? index : Number(index);
            if (Number.isInteger(k) && points[k]) onSeek(points[k].frame);
          }}
        >
          <CartesianGrid stroke="#2c3038" vertical={false} />
          <XAxis dataKey="frame" tick={{ fontSize: 11, fill: "#8d95a1" }} stroke="#2c3038" />
          <YAxis domain={[0, 1]} ticks={[0, 0.5, 1]} tick={{ fontSize: 11, fill: "#8d95a1" }} stroke="#2c3038" />
          <Tooltip content={<Tip />} cursor={{ stroke: "#8d95a1" }} />
          <ReferenceLine x={frame} stroke="#e8a33a" strokeDasharray="3 3" />
          <Line type="stepAfter" dataKey="iou" stroke="#4c8dff" strokeWidth={2} dot={false} isAnimationActive={false} connectNulls={false} />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
