// The bench's one table: every figure absolute, its ceiling measured in the same run and the
// ratio to it, the goal for it and whether it is met. Printed as Markdown (the README
// carries it as is) and written as JSON beside it.
import { cpus, loadavg, totalmem } from "node:os";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

export type Row = {
  /** Stable key for the JSON (and for comparing runs). */
  id: string;
  /** What was measured, as the table shows it. */
  what: string;
  /** The figure, with its unit. */
  figure: string;
  /** The ceilings measured in the same run for the same bytes, when there are any. */
  ceiling?: string;
  /** The figure as a ratio to each ceiling. */
  ratio?: string;
  /** The goal for this figure, if it sets one. */
  goal?: string;
  /** undefined: no goal. */
  met?: boolean;
  /** Failed requests, non-2xx answers, failed flows or refused subscriptions: any of these fails `--quick`. */
  failures: number;
  /** The raw numbers behind the figure, for the JSON. */
  values: Record<string, number | string | boolean | null>;
};

export type Machine = { cores: number; cpu: string; memoryGb: number; node: string; platform: string; loadAverageAtStart: number[] };

export function describeMachine(): Machine {
  const cpu = cpus();
  return {
    cores: cpu.length,
    cpu: cpu[0]?.model.trim() ?? "unknown",
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverageAtStart: loadavg().map((l) => Number(l.toFixed(2))),
  };
}

/** A machine whose 1-minute load average exceeds its cores was busy with other work at the start. */
export const wasShared = (m: Machine) => (m.loadAverageAtStart[0] ?? 0) > m.cores * 0.5;

export const percentile = (sorted: number[], p: number): number => {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
};

export function summarize(samples: number[]): { n: number; p50: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN };
}

const grouped = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
/** 23,456 / 512 / 3.4 / 0.27: enough digits to read, not more. */
export function num(n: number): string {
  if (!Number.isFinite(n)) return "n/a";
  const a = Math.abs(n);
  if (a >= 100) return grouped.format(n);
  if (a >= 10) return n.toFixed(1);
  if (a >= 1) return n.toFixed(2);
  return n.toFixed(a >= 0.01 || a === 0 ? 2 : 3);
}
export const ms = (n: number) => `${num(n)} ms`;
export const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? a / b : NaN);
export const times = (r: number) => (Number.isFinite(r) ? `${r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(1) : r.toFixed(2)}×` : "n/a");

/**
 * How a cost grows with size, from its first and last measurement: the exponent k of cost ∝ n^k.
 * Flat below 0.1 (within noise of constant), log-like up to 0.5 (a log grows by a constant per
 * tenfold step: an exponent well under 1 over two decades), linear up to 1.2, superlinear above.
 */
export function growth(points: { n: number; cost: number }[]): { exponent: number; label: "flat" | "log" | "linear" | "superlinear" } {
  const first = points[0]!;
  const last = points.at(-1)!;
  const exponent = Math.log(last.cost / first.cost) / Math.log(last.n / first.n);
  const label = !(exponent >= 0.1) ? "flat" : exponent < 0.5 ? "log" : exponent <= 1.2 ? "linear" : "superlinear";
  return { exponent, label };
}

const cell = (s: string | undefined) => (s ?? "—").replace(/\|/g, "\\|");

export function renderTable(rows: Row[]): string {
  const lines = ["| what | figure | ceiling (same run) | ratio | goal | met |", "|---|---|---|---|---|---|"];
  for (const r of rows) {
    const met = r.met === undefined ? "—" : r.met ? "yes" : "**no**";
    lines.push(`| ${cell(r.what)} | ${cell(r.figure)} | ${cell(r.ceiling)} | ${cell(r.ratio)} | ${cell(r.goal)} | ${met} |`);
  }
  return lines.join("\n");
}

export type Report = {
  date: string;
  mode: "full" | "quick";
  wallSeconds: number;
  machine: Machine;
  shared: boolean;
  rows: Row[];
  /** Scenarios that threw: the table is incomplete. */
  errors: { scenario: string; message: string }[];
  notes: string[];
};

export function renderReport(report: Report): string {
  const m = report.machine;
  const head = [
    `One Runtime bench (${report.mode}), ${report.date}: ${m.cores} cores (${m.cpu}), ${m.memoryGb} GB, Node ${m.node}, ${m.platform}; ` +
      `load average at start ${m.loadAverageAtStart.join(" / ")}${report.shared ? " (the machine was shared with other work: figures are noisy, ratios to the ceilings of the same run are the point)" : ""}; ` +
      `wall time ${report.wallSeconds.toFixed(0)} s.`,
    "",
    renderTable(report.rows),
  ];
  if (report.notes.length) head.push("", ...report.notes.map((n) => `- ${n}`));
  if (report.errors.length) head.push("", "Scenarios that failed:", ...report.errors.map((e) => `- ${e.scenario}: ${e.message}`));
  return head.join("\n");
}

export async function writeReport(path: string, report: Report): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
}
