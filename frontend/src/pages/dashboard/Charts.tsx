/**
 * The dashboard's charts (recharts). Every chart sits next to its table, which holds the exact
 * numbers and the CSV link; the charts are for seeing the shape.
 */
import {
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  LabelList,
  Legend,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";

import { PALETTE } from "@/lib/colors";

import { funnelBars, labelOf, reasonsChart, STAGE_LABELS, throughputChart, type Table } from "./tables";

const AXIS = { fontSize: 12, fill: "#9aa4b2" };
const GRID = "#2a3340";
const TOOLTIP = {
  contentStyle: { background: "#111821", border: "1px solid #2a3340", borderRadius: 6, color: "#e6edf3" },
  labelStyle: { color: "#e6edf3" },
  itemStyle: { color: "#e6edf3" },
  cursor: { fill: "rgba(255,255,255,0.06)" },
};

function Empty({ text }: { text: string }) {
  return <p className="dash-empty muted">{text}</p>;
}

export function FunnelChart({ table, testId }: { table: Table | undefined; testId: string }) {
  const bars = funnelBars(table);
  if (bars.length === 0) return <Empty text="No data." />;
  return (
    <div className="dash-chart" data-testid={testId} style={{ height: 34 * bars.length + 30 }}>
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={bars} layout="vertical" margin={{ top: 4, right: 48, bottom: 4, left: 8 }}>
          <CartesianGrid horizontal={false} stroke={GRID} />
          <XAxis type="number" allowDecimals={false} tick={AXIS} stroke={GRID} />
          <YAxis type="category" dataKey="label" width={150} tick={AXIS} stroke={GRID} />
          <Tooltip {...TOOLTIP} formatter={(v) => [String(v), "count"]} />
          <Bar dataKey="count" isAnimationActive={false} radius={[0, 3, 3, 0]}>
            {bars.map((b, k) => (
              <Cell key={b.stage} fill={PALETTE[k % PALETTE.length]} />
            ))}
            <LabelList dataKey="count" position="right" fill="#e6edf3" fontSize={12} />
          </Bar>
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

export function ThroughputChart({ table }: { table: Table | undefined }) {
  const { data, annotators } = throughputChart(table);
  if (data.length === 0) return <Empty text="No task was submitted in this period." />;
  return (
    <div className="dash-chart" data-testid="chart-throughput" style={{ height: 280 }}>
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} margin={{ top: 8, right: 16, bottom: 4, left: 0 }}>
          <CartesianGrid vertical={false} stroke={GRID} />
          <XAxis dataKey="date" tick={AXIS} stroke={GRID} />
          <YAxis allowDecimals={false} tick={AXIS} stroke={GRID} label={{ value: "tasks", angle: -90, position: "insideLeft", fill: "#9aa4b2", fontSize: 12 }} />
          <Tooltip {...TOOLTIP} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {annotators.map((name, k) => (
            <Bar key={name} dataKey={name} stackId="tasks" fill={PALETTE[k % PALETTE.length]} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

export function ReasonsChart({ table }: { table: Table | undefined }) {
  const { data, stages } = reasonsChart(table);
  if (data.length === 0) return <Empty text="No rejection in this period." />;
  return (
    <div className="dash-chart" data-testid="chart-rejection-reasons" style={{ height: 40 * data.length + 60 }}>
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} layout="vertical" margin={{ top: 4, right: 24, bottom: 4, left: 8 }}>
          <CartesianGrid horizontal={false} stroke={GRID} />
          <XAxis type="number" allowDecimals={false} tick={AXIS} stroke={GRID} />
          <YAxis type="category" dataKey="reason" width={150} tick={AXIS} stroke={GRID} />
          <Tooltip {...TOOLTIP} />
          <Legend wrapperStyle={{ fontSize: 12 }} formatter={(value) => labelOf(String(value), STAGE_LABELS)} />
          {stages.map((stage, k) => (
            <Bar
              key={stage}
              dataKey={stage}
              name={stage}
              stackId="reasons"
              fill={PALETTE[(k + 2) % PALETTE.length]}
              isAnimationActive={false}
            />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

/** One bar per row of `table`, value column as a percentage (gold accuracy, rejection rate). */
export function RateChart({
  table,
  category,
  value,
  testId,
  empty,
}: {
  table: Table | undefined;
  category: (row: Table["rows"][number]) => string;
  value: string;
  testId: string;
  empty: string;
}) {
  const data = (table?.rows ?? [])
    .filter((r) => typeof r[value] === "number")
    .map((r) => ({ name: category(r), percent: Math.round((r[value] as number) * 1000) / 10 }));
  if (data.length === 0) return <Empty text={empty} />;
  return (
    <div className="dash-chart" data-testid={testId} style={{ height: 34 * data.length + 40 }}>
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} layout="vertical" margin={{ top: 4, right: 56, bottom: 4, left: 8 }}>
          <CartesianGrid horizontal={false} stroke={GRID} />
          <XAxis type="number" domain={[0, 100]} unit=" %" tick={AXIS} stroke={GRID} />
          <YAxis type="category" dataKey="name" width={170} tick={AXIS} stroke={GRID} />
          <Tooltip {...TOOLTIP} formatter={(v) => [`${String(v)} %`, value.replace(/_/g, " ")]} />
          <Bar dataKey="percent" fill={PALETTE[4]} isAnimationActive={false} radius={[0, 3, 3, 0]}>
            <LabelList dataKey="percent" position="right" fill="#e6edf3" fontSize={12} formatter={(v) => `${String(v)} %`} />
          </Bar>
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
