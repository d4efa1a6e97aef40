// The service's own routes, and nothing else: every request goes to the
// origin that served the page (relative URLs).

const TOKEN_KEY = 'callassign-token';

/** An answer the service refused: its `{"error":{code,message,help}}`. */
export class ServiceError extends Error {
  constructor(status, code, message, help, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.help = help;
    this.body = body;
  }
}

let onUnauthorized = () => {};
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * A request to the service. `body` is sent as JSON; the answer is read as
 * JSON unless `text` is set. A refused request throws a ServiceError; an
 * aborted one throws the AbortError for the caller to ignore.
 */
export async function request(path, {body, signal, text = false} = {}) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = {headers, signal, cache: 'no-store'};
  if (body !== undefined) {
    init.method = 'POST';
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ServiceError(0, 'callassign::unreachable', 'the service does not answer', 'is `callassign serve` still running?');
  }
  if (!response.ok) {
    let problem = {};
    let parsed = null;
    try {
      parsed = await response.json();
      problem = parsed.error || {};
    } catch {
      // Not the service's JSON: a proxy's page.
    }
    if (response.status === 401) onUnauthorized();
    throw new ServiceError(
      response.status,
      problem.code || `http ${response.status}`,
      problem.message || `the service answered ${response.status}`,
      problem.help || null,
      parsed,
    );
  }
  return text ? response.text() : response.json();
}

/**
 * Runs `task` for the newest input only, one at a time: a change while a
 * request is out waits for it, then sends the newest state once. Results
 * of older inputs are never shown (their promise is aborted).
 */
export class Latest {
  constructor(task, delay = 0) {
    this.task = task;
    this.delay = delay;
    this.running = false;
    this.pending = false;
    this.timer = null;
    this.controller = null;
  }

  schedule() {
    this.pending = true;
    if (this.running) return;
    clearTimeout(this.timer);
    if (this.delay) this.timer = setTimeout(() => this.run(), this.delay);
    else this.run();
  }

  async run() {
    if (this.running || !this.pending) return;
    this.pending = false;
    this.running = true;
    this.controller = new AbortController();
    try {
      await this.task(this.controller.signal, () => this.pending);
    } finally {
      this.running = false;
      this.controller = null;
      if (this.pending) this.schedule();
    }
  }
}
