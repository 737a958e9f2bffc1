// The browser SDK's weight on customers' pages: connect.js as `npm run build:popup` builds it
// (popup/build.ts, rebuilt here so the figure is the current source's), gzipped.
import { buildPopup, SDK_BUDGET_GZIP_BYTES } from "../popup/build.js";
import { num, type Row } from "./report.js";

export async function measureSdkSize(): Promise<Row> {
  const sizes = await buildPopup();
  const sdk = sizes["connect.js"]!;
  return {
    id: "sdk-size",
    what: "`connect.js` (the browser SDK), gzipped",
    figure: `${num(sdk.gzip / 1024)} KB (${num(sdk.raw / 1024)} KB raw)`,
    ceiling: `budget ${SDK_BUDGET_GZIP_BYTES / 1024} KB`,
    ratio: `${(sdk.gzip / SDK_BUDGET_GZIP_BYTES).toFixed(2)}× the budget`,
    goal: `≤ ${SDK_BUDGET_GZIP_BYTES / 1024} KB gzipped`,
    met: sdk.gzip <= SDK_BUDGET_GZIP_BYTES,
    failures: 0,
    values: { gzipBytes: sdk.gzip, rawBytes: sdk.raw, budgetBytes: SDK_BUDGET_GZIP_BYTES },
  };
}
