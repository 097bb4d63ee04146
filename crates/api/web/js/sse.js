// Incremental parser for the text/event-stream format (WHATWG HTML, "event stream
// interpretation"). EventSource cannot send an Authorization header, so the live feed is read
// with fetch(); this turns the decoded text chunks into messages. Chunks may end anywhere: in
// the middle of a line, or between the \r and \n of a line ending.

export class SseParser {
  /**
   * @param {(msg: {type: string, data: string, id: string}) => void} onMessage
   * @param {() => void} [onComment] called for `:` lines (keep-alives), to prove the link is up
   */
  constructor(onMessage, onComment) {
    this.onMessage = onMessage;
    this.onComment = onComment;
    this.partial = '';
    this.afterCr = false;
    this.started = false;
    this.data = [];
    this.type = '';
    this.lastId = '';
    this.retryMs = null;
  }

  /** Feeds decoded text (use TextDecoder with {stream: true} so characters are not split). */
  push(chunk) {
    let text = chunk;
    if (!this.started && text.length) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    // A \r ended the previous chunk's last line; a \n opening this one belongs to it.
    if (this.afterCr && text.charCodeAt(0) === 10) text = text.slice(1);
    this.afterCr = false;

    let start = 0;
    const buffered = this.partial;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = text.slice(start, i);
      this.line(start === 0 && buffered ? buffered + line : line);
      if (c === 13) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else {
          this.afterCr = true;
        }
      }
      start = i + 1;
    }
    if (start === 0) this.partial = buffered + text;
    else this.partial = text.slice(start);
  }

  line(line) {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' */) {
      this.onComment?.(line.slice(1));
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.type = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        // Unknown fields are ignored, as the format requires.
        break;
    }
  }

  dispatch() {
    const type = this.type || 'message';
    this.type = '';
    if (this.data.length === 0) return;
    const data = this.data.join('\n');
    this.data = [];
    this.onMessage({ type, data, id: this.lastId });
  }
}
