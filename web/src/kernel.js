// A Jupyter kernel channel client: messaging protocol 5.3 as JSON frames on one WebSocket.
// Replies and outputs reach the handlers of the request they answer (by parent msg_id).

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16)); // plain-http hosts lack randomUUID
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export class Kernel {
  // on: {session(content), connection(bool)}
  constructor(url, on) {
    this.url = url;
    this.on = on;
    this.session = uuid();
    this.handlers = new Map();
    this.pending = [];
    this.retries = 0;
    this.connect();
  }

  connect() {
    const ws = (this.ws = new WebSocket(this.url));
    ws.onopen = () => {
      this.retries = 0;
      this.on.connection(true);
      for (const data of this.pending.splice(0)) ws.send(data);
    };
    ws.onmessage = (e) => this.dispatch(JSON.parse(e.data));
    ws.onclose = () => {
      this.on.connection(false);
      // Cells waiting for this channel will hear nothing more: their calculations go on.
      for (const h of this.handlers.values()) h.lost?.();
      this.handlers.clear();
      setTimeout(() => this.connect(), Math.min(15000, 500 * 2 ** this.retries++));
    };
  }

  dispatch(msg) {
    const type = msg.header.msg_type;
    if (type === 'glaux_session') return this.on.session(msg.content);
    const id = msg.parent_header && msg.parent_header.msg_id;
    const h = this.handlers.get(id);
    if (!h) return;
    if (msg.channel === 'iopub') {
      h.iopub?.(msg);
      if (type === 'status' && msg.content.execution_state === 'idle') h.idle = true;
    } else {
      h.reply?.(msg);
      h.replied = true;
    }
    if (h.idle && h.replied) this.handlers.delete(id);
  }

  request(type, content, handlers = {}, channel = 'shell') {
    const msg = {
      header: { msg_id: uuid(), username: 'glaux-page', session: this.session, date: new Date().toISOString(), msg_type: type, version: '5.3' },
      parent_header: {}, metadata: {}, content, buffers: [], channel,
    };
    this.handlers.set(msg.header.msg_id, handlers);
    const data = JSON.stringify(msg);
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(data);
    else this.pending.push(data);
    return msg.header.msg_id;
  }

  execute(code, handlers) {
    return this.request('execute_request', { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true }, handlers);
  }

  interrupt() {
    this.request('interrupt_request', {}, { idle: true }, 'control');
  }
}
