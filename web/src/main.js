// The notebook page of a session: loads the notebook, connects to the session's kernel
// channel, keeps the token fresh, saves with UpdateNotebook.
import './style.css';
import { Kernel } from './kernel.js';
import { Notebook } from './notebook.js';

const base = document.body.dataset.base;
const sessionId = document.body.dataset.session;

function el(tag, cls, content) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (content != null) e.textContent = content;
  return e;
}

function button(label, title, onclick, cls) {
  const b = el('button', cls, label);
  b.type = 'button';
  b.title = title;
  b.onclick = onclick;
  return b;
}

// Page layout: a sticky header with the toolbar, a banner for problems, the cells.
const header = el('header');
const title = el('div', 'title');
const name = el('h1', null, document.title.replace(/ — glaux notebook$/, ''));
const sessionBadge = el('span', 'badge state', '…');
sessionBadge.id = 'session-state';
const conn = el('span', 'badge conn', 'connecting');
const saved = el('span', 'saved', '');
title.append(el('span', 'logo', 'glaux'), name, sessionBadge, conn);
const toolbar = el('nav', 'toolbar');
const banner = el('div', 'banner');
const main = el('main');
header.append(title, toolbar);
document.body.append(header, banner, main);

function showBanner(message) {
  banner.textContent = message || '';
  banner.classList.toggle('on', !!message);
}

const kernel = new Kernel(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${base}/api/kernels/${sessionId}/channels`, {
  session: (s) => {
    sessionBadge.textContent = s.state;
    sessionBadge.className = `badge state ${s.state}`;
    sessionBadge.title = s.reason || `Session ${s.session_id}`;
    document.body.classList.toggle('ended', ['TERMINATED', 'TERMINATING', 'FAILED'].includes(s.state));
  },
  connection: (up) => {
    conn.textContent = up ? 'connected' : 'disconnected';
    conn.classList.toggle('down', !up);
  },
});

const nb = new Notebook(main, kernel, (dirty) => {
  saved.textContent = dirty ? 'unsaved changes' : 'saved';
  saved.classList.toggle('dirty', dirty);
});

async function save() {
  saved.textContent = 'saving…';
  const r = await fetch(`${base}/api/notebook`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(nb.toJSON(), null, 1) });
  if (r.ok) {
    nb.setDirty(false);
    showBanner(null);
  } else {
    saved.textContent = 'not saved';
    showBanner(`Saving failed: ${(await r.json().catch(() => ({}))).message || r.status}`);
  }
}

toolbar.append(
  button('▶ Run', 'Run the selected cell (Shift-Enter)', () => nb.selected && nb.selected.run()),
  button('▶▶ Run all', 'Run every cell, in order', () => nb.runAll()),
  button('■ Interrupt', 'Stop the running calculation (StopCalculationExecution)', () => kernel.interrupt(), 'interrupt'),
  el('span', 'sep'),
  button('+ Code', 'Add a code cell below', () => nb.add('code')),
  button('+ Markdown', 'Add a Markdown cell below', () => nb.add('markdown')),
  el('span', 'sep'),
  button('Save', 'Save the notebook (Ctrl-S)', save, 'save'),
  saved,
);

addEventListener('keydown', (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key === 's') {
    e.preventDefault();
    save();
  }
});
addEventListener('beforeunload', (e) => {
  if (nb.dirty) e.preventDefault();
});

// The token cookie is renewed two minutes before it expires, with the cookie itself.
let refreshTimer;
function scheduleRefresh(expiresIn) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refreshToken, Math.max(5, expiresIn - 120) * 1000);
}
async function refreshToken() {
  const r = await fetch(`${base}/api/token`, { method: 'POST' }).catch(() => null);
  if (r && r.ok) return scheduleRefresh((await r.json()).expiresIn);
  const why = r ? (await r.json().catch(() => ({}))).message : 'glaux is not reachable';
  showBanner(`The notebook link could not be renewed (${why}). Save your work; a new link comes from CreatePresignedNotebookUrl.`);
  if (!r) scheduleRefresh(130); // try again soon
}
window.glauxRefreshToken = refreshToken; // for tests

(async () => {
  const r = await fetch(`${base}/api/notebook`);
  if (!r.ok) return showBanner(`The notebook could not be loaded: ${(await r.json().catch(() => ({}))).message || r.status}`);
  const info = await r.json();
  name.textContent = info.name;
  name.title = `Notebook ${info.notebookId} in workgroup ${info.workGroup}, session ${info.sessionId}`;
  nb.load(info.notebook);
  scheduleRefresh(info.tokenExpiresIn);
  document.body.classList.add('loaded');
})();
