// Records a HAR of a user clicking through hornet target's web application (/app/) in headless
// Chromium, for crates/hornet/tests/import_har.rs, which passes:
//   APP_URL   the target's base URL     HAR_PATH  where to write the recording
//   CHROMIUM  the browser binary
// Signs in, opens the second order (its page calls the JSON API on the second host), waits for
// the item to be added, checks out. Prints one JSON line; exits non-zero with a message on failure.
import { chromium } from "playwright-core";

const base = process.env.APP_URL;
const step = (m) => process.stderr.write(`record: ${m}\n`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
let code = 0;
try {
  const context = await browser.newContext({ recordHar: { path: process.env.HAR_PATH, content: "embed" } });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);

  step("open the login page");
  await page.goto(`${base}/app/`);
  await page.fill("#username", "alice");
  await page.fill("#password", "hornet-pass");
  step("sign in");
  await Promise.all([page.waitForURL("**/app/home"), page.click("#sign-in")]);
  step("open the second order");
  await Promise.all([page.waitForURL("**/app/orders/**"), page.locator("a.order").nth(1).click()]);
  await page.waitForFunction(() => document.getElementById("status").textContent !== "loading");
  const status = await page.textContent("#status");
  if (status !== "added") throw new Error(`the order page's API calls failed: ${status}`);
  step("check out");
  await Promise.all([page.waitForURL("**/app/done/**"), page.click("#checkout")]);
  await context.close(); // writes the HAR
  console.log(JSON.stringify({ ok: true }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e) }));
  code = 1;
} finally {
  await browser.close();
}
process.exit(code);
