// End-to-end test of hornet's web UI in headless Chromium, driven by
// crates/hornet/tests/web_ui.rs (`ui_in_a_real_browser`), which starts `hornet ui` against the
// embedded target and passes:
//   HORNET_UI_URL  the UI's URL        CHROMIUM  the browser binary
//   OUT_DIR        where screenshots and the downloaded CSV go
// Prints one JSON line with the measurements; exits non-zero with a message on failure.
import { chromium } from "playwright-core";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const url = process.env.HORNET_UI_URL;
const out = process.env.OUT_DIR;
const profile = mkdtempSync(join(tmpdir(), "hornet-ui-e2e-"));
const errors = [];
const step = (m) => process.stderr.write(`e2e: ${m}\n`);

async function waitFor(what, ms, fn) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  acceptDownloads: true,
  viewport: { width: 1400, height: 900 },
});
let code = 0;
try {
  const page = context.pages()[0] || (await context.newPage());
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.setDefaultTimeout(15000);

  step("open the page");
  await page.goto(url);
  await page.getByRole("tab", { name: "Statistics" }).waitFor();
  await waitFor("the state shows ready", 5000, async () => (await page.textContent("#s-state")) === "ready");

  step("start at 20/s");
  await page.check("input[name=mode][value=rate]");
  await page.fill("#rate", "20");
  await page.fill("#ramp", "0");
  await page.click("#start");
  await waitFor("the table filling", 10000, async () => {
    const n = await page.locator("#stats-table tbody tr").count();
    const foot = await page.textContent("#stats-table tfoot");
    return n >= 1 && /Aggregated/.test(foot || "") && (await page.textContent("#s-state")).startsWith("running");
  });
  const firstRow = await page.locator("#stats-table tbody tr").first().locator("td").allTextContents();
  if (firstRow[0] !== "GET" || firstRow[1] !== "/") throw new Error(`unexpected first row ${firstRow}`);

  step("sort by name by clicking the header");
  await page.click("#stats-table th[data-key=name]");
  const sorted = await page.getAttribute("#stats-table th[data-key=name]", "aria-sort");
  if (sorted !== "ascending") throw new Error(`aria-sort after a click: ${sorted}`);
  await page.screenshot({ path: join(out, "statistics.png"), fullPage: true });

  step("charts draw");
  await page.click("#tab-charts");
  const drawn = await waitFor("the RPS chart drawing its line", 8000, () =>
    page.evaluate(() => {
      const c = document.querySelector("#chart-rps canvas");
      if (!c || c.width === 0) return 0;
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let n = 0; // pixels of the RPS line (#17733a)
      for (let i = 0; i < d.length; i += 4) {
        if (Math.abs(d[i] - 23) < 40 && Math.abs(d[i + 1] - 115) < 40 && Math.abs(d[i + 2] - 58) < 40 && d[i + 3] > 100) n++;
      }
      return n > 20 ? n : 0;
    }),
  );
  await page.screenshot({ path: join(out, "charts.png"), fullPage: true });

  step("change the rate to 60/s");
  await page.fill("#new-rate", "60");
  const changed = Date.now();
  await page.click("#apply");
  await waitFor("the achieved RPS following 60/s", 5000, async () => {
    const rps = parseFloat(await page.textContent("#s-rps"));
    return rps >= 50 && rps <= 70;
  });
  const followMs = Date.now() - changed;

  step("stop");
  await page.click("#stop");
  await waitFor("the run stopping", 10000, async () => (await page.textContent("#s-state")).startsWith("stopped"));
  await page.click("#tab-stats");
  await page.screenshot({ path: join(out, "stopped.png"), fullPage: true });

  step("the slowest tab: the traced requests kept, their trace ids linked by --trace-link");
  await page.click("#tab-slowest");
  const rows = await page.locator("#slowest-table tbody tr").count();
  if (rows < 1) throw new Error("no traced requests in the Slowest tab");
  const links = await page.locator("#slowest-table tbody tr td a").evaluateAll((as) => as.map((a) => [a.href, a.textContent]));
  const linkOk = ([href, id]) => /^[0-9a-f]{32}$/.test(id) && new RegExp(`^https://tempo\\.example/trace/${id}\\?span=[0-9a-f]{16}$`).test(href);
  if (links.length !== rows || !links.every(linkOk)) throw new Error(`trace links: ${JSON.stringify(links)}`);
  const firstTrace = await page.locator("#slowest-table tbody tr").first().locator("td").allTextContents();
  if (firstTrace[0] !== "GET /" || !(parseFloat(firstTrace[1]) >= 0)) throw new Error(`slowest row ${firstTrace}`);
  await page.screenshot({ path: join(out, "slowest.png"), fullPage: true });

  step("the workers tab: this machine's engine, its whole share");
  await page.click("#tab-workers");
  const row = await page.textContent("#workers-table tbody tr");
  if (!row || !row.includes("100.0 %")) throw new Error(`workers row: ${row}`);
  const workersNote = await page.textContent("#workers-note");
  if (!workersNote.includes("This machine's engine")) throw new Error(`workers note: ${workersNote}`);
  await page.screenshot({ path: join(out, "workers.png"), fullPage: true });

  step("download the statistics CSV");
  await page.click("#tab-download");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("text=Statistics CSV (Locust format)")]);
  const csvPath = join(out, "hornet_stats.csv");
  await download.saveAs(csvPath);
  const header = readFileSync(csvPath, "utf8").split("\n")[0];
  if (!header.startsWith("Type,Name,Request Count,Failure Count,Median Response Time")) throw new Error(`CSV header: ${header}`);
  if (download.suggestedFilename() !== "hornet_stats.csv") throw new Error(`file name ${download.suggestedFilename()}`);

  const startAgain = await page.isEnabled("#start");
  if (!startAgain) throw new Error("Start is not enabled after the run");
  if (errors.length) throw new Error(`page errors: ${errors.join(" | ")}`);
  console.log(JSON.stringify({ ok: true, rps_follow_ms: followMs, rps_line_pixels: drawn, csv_header: header, traced_rows: rows }));
} catch (e) {
  code = 1;
  console.log(JSON.stringify({ ok: false, error: String(e && e.message ? e.message : e), page_errors: errors }));
} finally {
  await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
process.exit(code);
