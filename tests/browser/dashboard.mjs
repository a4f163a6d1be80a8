// Drives the cadre dashboard in Debian's Chromium, once per role, and prints
// what each role saw as JSON on stdout. tests/dashboard_browser.rs starts the
// server, runs this, and compares every observation with the API.
//
// Environment: CADRE_URL (server), CADRE_TOKENS (JSON {role: token}),
// CADRE_ARTIFACTS (screenshots directory), CADRE_CHROMIUM (default /usr/bin/chromium).

import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";

const base = process.env.CADRE_URL;
const tokens = JSON.parse(process.env.CADRE_TOKENS);
const shots = process.env.CADRE_ARTIFACTS;

const browser = await chromium.launch({
  executablePath: process.env.CADRE_CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});

/// Waits until the current view has finished loading (or failed).
async function settled(page) {
  await page.waitForFunction(() => {
    const v = document.getElementById("view");
    return v && (v.dataset.state === "ready" || v.dataset.state === "error");
  }, null, { timeout: 60000 });
  return page.evaluate(() => ({
    view: document.getElementById("view").dataset.view,
    state: document.getElementById("view").dataset.state,
    error: document.getElementById("error").textContent,
  }));
}

async function goView(page, query) {
  await page.goto(`${base}/?${query}`);
  return settled(page);
}

async function shot(page, name) {
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

/// Heatmap cells, metric cards and charts as the page shows them.
function observe(page) {
  return page.evaluate(() => {
    const cells = [...document.querySelectorAll("td.cell")].map(td => ({
      unit: td.dataset.unit, competency: td.dataset.competency,
      gap: td.dataset.gap === undefined ? null : Number(td.dataset.gap), text: td.textContent,
    }));
    const metrics = Object.fromEntries([...document.querySelectorAll("[data-metric]")].map(e => [e.dataset.metric, e.textContent]));
    const charts = [...document.querySelectorAll("canvas")].map(c => {
      const ch = window.Chart && Chart.getChart(c);
      return { id: c.id, drawn: !!ch, type: ch ? ch.config.type : null, labels: ch ? ch.data.labels.length : 0, data: ch ? ch.data.datasets.map(d => d.data) : [] };
    });
    return {
      cells, metrics, charts,
      text: document.body.innerText,
      tabs: [...document.querySelectorAll("#tabs a")].map(a => a.dataset.nav),
      units: [...document.querySelectorAll("#unit option")].map(o => o.value),
      crumbs: [...document.querySelectorAll("#crumbs a")].map(a => a.dataset.unit),
      links: [...document.querySelectorAll("a[data-csv]")].map(a => a.getAttribute("href")),
      people: [...document.querySelectorAll("a[data-employee]")].map(a => a.dataset.employee),
      positions: [...document.querySelectorAll("a[data-position]")].map(a => a.dataset.position),
      boxes: Object.fromEntries([...document.querySelectorAll("[data-box]")].map(b => [b.dataset.box, { n: b.querySelector(".n").textContent, names: b.querySelectorAll("li").length }])),
    };
  });
}

async function downloadCsv(page, index) {
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.locator("a[data-csv]").nth(index).click(),
  ]);
  return { href: await page.locator("a[data-csv]").nth(index).getAttribute("href"), body: readFileSync(await download.path(), "utf8") };
}

const out = {};
for (const [role, token] of Object.entries(tokens)) {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 1000 }, acceptDownloads: true });
  const page = await ctx.newPage();
  const seen = (out[role] = {});
  // not signed in: the dashboard sends the browser to the sign-in form
  await page.goto(`${base}/`);
  seen.redirected_to = new URL(page.url()).pathname;
  // a wrong token is refused on the form
  await page.fill("#token", "not-a-token");
  await Promise.all([page.waitForLoadState(), page.click("button[type=submit]")]);
  seen.bad_token = await page.locator("p.error").textContent();
  await page.fill("#token", token);
  await Promise.all([page.waitForURL(`${base}/`), page.click("button[type=submit]")]);
  seen.overview_state = await settled(page);
  seen.overview = await observe(page);
  await shot(page, `${role}-overview`);

  if (role === "admin" && process.env.CADRE_LIVE) {
    // new events arrive: the open page updates itself, without a reload
    await page.evaluate(() => { window.__notReloaded = true; });
    const before = await page.textContent("[data-metric=headcount]");
    const r = await fetch(`${base}/v1/events`, {
      method: "POST",
      headers: { Authorization: `Bearer ${process.env.CADRE_INGEST}`, "Content-Type": "application/x-ndjson" },
      body: process.env.CADRE_LIVE,
    });
    seen.live_post = r.status;
    await page.waitForFunction(b => document.querySelector("[data-metric=headcount]").textContent !== b, before, { timeout: 60000 });
    await settled(page);
    seen.live = { before, after: await page.textContent("[data-metric=headcount]"), not_reloaded: await page.evaluate(() => window.__notReloaded === true) };
    seen.overview = await observe(page);
  }

  seen.heatmap_state = await goView(page, "view=heatmap");
  seen.heatmap = await observe(page);
  await shot(page, `${role}-heatmap`);
  seen.heatmap_csv = await downloadCsv(page, 0);
  // click the first unit row: its children, or its people
  const first = page.locator("#heatmap td.name a").first();
  seen.clicked_unit = await first.getAttribute("data-unit");
  await first.click();
  await page.waitForFunction(u => new URLSearchParams(location.search).get("unit") === u, seen.clicked_unit);
  seen.drill_state = await settled(page);
  if (await page.locator("#people").count()) await page.waitForSelector("#people a[data-employee]", { timeout: 60000 });
  seen.drill = await observe(page);
  await shot(page, `${role}-unit`);
  if (seen.drill.people.length) {
    seen.clicked_person = seen.drill.people[0];
    await page.locator("#people a[data-employee]").first().click();
    seen.profile_state = await settled(page);
    seen.profile = await observe(page);
    await shot(page, `${role}-profile`);
  }

  seen.training_state = await goView(page, "view=training");
  seen.training = await observe(page);
  await shot(page, `${role}-training`);

  seen.succession_state = await goView(page, "view=succession");
  seen.succession = await observe(page);
  if (seen.succession.positions.length) {
    await shot(page, `${role}-succession`);
    seen.clicked_position = seen.succession.positions[0];
    await page.locator("a[data-position]").first().click();
    seen.position_state = await settled(page);
    seen.position = await observe(page);
    await shot(page, `${role}-position`);
  }

  seen.ninebox_state = await goView(page, "view=ninebox");
  seen.ninebox = await observe(page);
  await shot(page, `${role}-ninebox`);

  // a profile asked for by URL
  seen.forced_profile_state = await goView(page, `view=profile&id=${encodeURIComponent(process.env.CADRE_SOMEONE)}`);
  await ctx.close();
}
await browser.close();
process.stdout.write(JSON.stringify(out));
