// nbformat outputs as DOM. HTML (pandas and Spark tables, SVG) goes into an iframe sandboxed
// without allow-same-origin: its scripts run in an opaque origin, never in the page's.
import { renderMarkdown } from './markdown.js';

export const text = (v) => (Array.isArray(v) ? v.join('') : v == null ? '' : String(v));
const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');

function el(tag, cls, content) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (content != null) e.textContent = content;
  return e;
}

export function renderOutput(o) {
  const box = el('div', `output ${o.output_type}`);
  switch (o.output_type) {
    case 'stream':
      box.classList.add(o.name);
      box.append(el('pre', null, stripAnsi(text(o.text))));
      break;
    case 'error': {
      const tb = o.traceback && o.traceback.length ? o.traceback.join('\n') : `${o.ename}: ${o.evalue}`;
      box.append(el('pre', null, stripAnsi(tb)));
      break;
    }
    default:
      box.append(renderBundle(o.data || {}));
  }
  return box;
}

function renderBundle(data) {
  if (data['text/html'] != null) return htmlFrame(text(data['text/html']));
  if (data['image/svg+xml'] != null) return htmlFrame(text(data['image/svg+xml']));
  for (const type of ['image/png', 'image/jpeg', 'image/gif']) {
    if (data[type] != null) {
      const img = el('img');
      img.src = `data:${type};base64,${text(data[type]).replace(/\s/g, '')}`;
      img.alt = text(data['text/plain']);
      return img;
    }
  }
  if (data['text/markdown'] != null) {
    const d = el('div', 'markdown');
    d.innerHTML = renderMarkdown(text(data['text/markdown']));
    return d;
  }
  if (data['application/json'] !== undefined) return el('pre', 'json', JSON.stringify(data['application/json'], null, 2));
  return el('pre', null, stripAnsi(text(data['text/plain'])));
}

// The frame reports its content's height so that it grows to fit, without scroll bars.
const FRAME_HEAD = `<meta charset="utf-8"><style>
body{margin:0;padding:2px 0;font:13px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;overflow-x:auto;overflow-y:hidden}
table{border:none;border-collapse:collapse;font-size:12.5px;font-variant-numeric:tabular-nums}
th,td{padding:4px 10px;border:none;border-bottom:1px solid #e3e6ea;text-align:right;white-space:nowrap}
thead th{border-bottom:2px solid #b8bfc7;font-weight:600}tbody tr:nth-child(odd){background:#f6f8fa}
tbody tr:hover{background:#eaf2fd}p{margin:.4em 0}</style>
<script>addEventListener("load",function(){var b=document.body,post=function(){parent.postMessage({glauxFrameHeight:Math.ceil(b.getBoundingClientRect().height)+4},"*")};new ResizeObserver(post).observe(b);post()})</script>`;

export function htmlFrame(html) {
  const f = el('iframe', 'html-output');
  f.setAttribute('sandbox', 'allow-scripts');
  f.setAttribute('title', 'HTML output');
  f.srcdoc = `<!doctype html><html><head>${FRAME_HEAD}</head><body>${html}</body></html>`;
  return f;
}

addEventListener('message', (e) => {
  const h = e.data && e.data.glauxFrameHeight;
  if (typeof h !== 'number') return;
  for (const f of document.querySelectorAll('iframe.html-output')) {
    if (f.contentWindow === e.source) f.style.height = `${Math.min(Math.max(h, 16), 4000)}px`;
  }
});
