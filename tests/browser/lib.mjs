// Shared pieces of the browser tests: launching Debian's Chromium through playwright-core,
// named steps with numbered screenshots, waits that say what they waited for, and direct API
// calls (the tests look things up with the same tokens the page uses).
import fs from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const VIOLATION_KINDS = ['watchlist_hit', 'restricted_zone', 'overload', 'obscured_plate', 'cloned_plate'];
export const MAX_WAIT_MS = 60000;

/** A required environment variable, or exit with a message naming it. */
export function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`error: environment variable ${name} is required`);
    process.exit(2);
  }
  return value;
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Opens a page at 1600x900 and records what would otherwise be silent: uncaught exceptions and
 * Content-Security-Policy refusals (the server's CSP forbids inline scripts and styles).
 */
export async function openPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1600, height: 900 }, locale: 'zh-CN' });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`uncaught exception: ${err.message}`));
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) problems.push(`CSP violation: ${msg.text()}`);
  });
  return { page, problems };
}

/** Runs named steps in order; each ends with a screenshot NN-name.png (NN-name-FAILED.png on failure). */
export class Steps {
  constructor(page, artifacts) {
    this.page = page;
    this.artifacts = artifacts;
    this.n = 0;
  }

  async run(name, fn) {
    this.n++;
    const label = `${String(this.n).padStart(2, '0')}-${name}`;
    const started = Date.now();
    console.log(`[${label}] ...`);
    try {
      await fn();
    } catch (err) {
      await this.screenshot(`${label}-FAILED`);
      err.message = `step ${label} failed: ${err.message}`;
      throw err;
    }
    await this.screenshot(label);
    console.log(`[${label}] ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }

  async screenshot(label) {
    try {
      await this.page.screenshot({ path: path.join(this.artifacts, `${label}.png`) });
    } catch (err) {
      console.error(`(screenshot ${label} not saved: ${err.message})`);
    }
  }
}

export async function ensureDir(dir) {
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Waits until `fn(arg)` is truthy in the page; on timeout the error names `what`.
 * Returns the value fn produced.
 */
export async function waitFor(page, what, fn, arg, timeoutMs = 30000) {
  const timeout = Math.min(timeoutMs, MAX_WAIT_MS);
  try {
    const handle = await page.waitForFunction(fn, arg, { timeout, polling: 250 });
    return await handle.jsonValue();
  } catch (err) {
    if (err.name === 'TimeoutError') throw new Error(`timed out after ${timeout / 1000} s waiting for ${what}`);
    throw err;
  }
}

/** Waits for an element; on timeout the error names `what`. */
export async function waitForSelector(page, selector, what, timeoutMs = 30000, state = 'visible') {
  const timeout = Math.min(timeoutMs, MAX_WAIT_MS);
  try {
    return await page.waitForSelector(selector, { timeout, state });
  } catch (err) {
    if (err.name === 'TimeoutError') throw new Error(`timed out after ${timeout / 1000} s waiting for ${what} (${selector})`);
    throw err;
  }
}

export const byTestId = (id) => `[data-testid="${id}"]`;

/** Signs in through the form and waits for the header to name the user. */
export async function signIn(page, token, userId) {
  await waitForSelector(page, byTestId('token-input'), 'the sign-in form');
  await page.fill(byTestId('token-input'), token);
  await page.click(byTestId('sign-in'));
  await waitFor(page, `the header (whoami) to show user ${userId}`,
    (user) => document.querySelector('[data-testid="whoami"]')?.textContent.includes(user), userId);
}

/** GET an API path with a token from the test itself; returns the parsed JSON or throws. */
export async function apiGet(baseUrl, token, pathAndQuery) {
  const response = await fetch(new URL(pathAndQuery, baseUrl), { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`GET ${pathAndQuery} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
