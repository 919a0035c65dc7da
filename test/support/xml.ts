// A strict little XML parser for documents the tests produce (the SVG chart): elements,
// attributes, text, comments, and the XML declaration. It throws on anything not well-formed:
// unbalanced or crossed tags, unquoted or repeated attributes, a bare `&` or `<` in text.

/** An element with its attributes and child elements. */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (entities decoded), not its children's. */
  text: string;
}

const NAME = /^[A-Za-z_:][\w:.-]*/;
const ENTITY = /^&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/;

function decode(s: string, where: number): string {
  for (let i = s.indexOf('&'); i >= 0; i = s.indexOf('&', i + 1)) if (!ENTITY.test(s.slice(i))) throw new Error(`bare & at ${where + i}`);
  return s
    .replace(/&#x([0-9a-fA-F]+);/g, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** Parses `doc`; returns its root element or throws saying where it is not well-formed. */
export function parseXml(doc: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  const skipSpace = (): void => {
    while (i < doc.length && /\s/.test(doc[i]!)) i++;
  };
  if (doc.startsWith('<?xml')) {
    const end = doc.indexOf('?>');
    if (end < 0) throw new Error('unterminated XML declaration');
    i = end + 2;
  }
  while (i < doc.length) {
    const lt = doc.indexOf('<', i);
    const text = lt < 0 ? doc.slice(i) : doc.slice(i, lt);
    if (text.includes('>')) throw new Error(`bare > at ${i}`);
    const top = stack[stack.length - 1];
    if (top) top.text += decode(text, i);
    else if (text.trim() !== '') throw new Error(`text outside the root element at ${i}`);
    if (lt < 0) break;
    i = lt;
    if (doc.startsWith('<!--', i)) {
      const end = doc.indexOf('-->', i);
      if (end < 0) throw new Error('unterminated comment');
      i = end + 3;
      continue;
    }
    if (doc.startsWith('</', i)) {
      i += 2;
      const name = NAME.exec(doc.slice(i))?.[0];
      const open = stack.pop();
      if (!name || open?.name !== name) throw new Error(`</${name}> does not close <${open?.name}> at ${i}`);
      i += name.length;
      skipSpace();
      if (doc[i] !== '>') throw new Error(`expected > at ${i}`);
      i++;
      continue;
    }
    i++;
    const name = NAME.exec(doc.slice(i))?.[0];
    if (!name) throw new Error(`bad tag name at ${i}`);
    i += name.length;
    const el: XmlElement = { name, attributes: {}, children: [], text: '' };
    for (;;) {
      const before = i;
      skipSpace();
      if (doc.startsWith('/>', i) || doc[i] === '>') break;
      if (i === before) throw new Error(`expected space before an attribute at ${i}`);
      const attr = NAME.exec(doc.slice(i))?.[0];
      if (!attr) throw new Error(`bad attribute at ${i}`);
      i += attr.length;
      if (doc[i] !== '=') throw new Error(`attribute ${attr} without a value at ${i}`);
      const quote = doc[i + 1];
      if (quote !== '"' && quote !== "'") throw new Error(`unquoted attribute ${attr} at ${i}`);
      const end = doc.indexOf(quote, i + 2);
      if (end < 0) throw new Error(`unterminated attribute ${attr}`);
      const raw = doc.slice(i + 2, end);
      if (raw.includes('<')) throw new Error(`< in attribute ${attr} at ${i}`);
      if (attr in el.attributes) throw new Error(`repeated attribute ${attr} at ${i}`);
      el.attributes[attr] = decode(raw, i + 2);
      i = end + 1;
    }
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else if (root) throw new Error(`second root element <${name}>`);
    else root = el;
    if (doc.startsWith('/>', i)) i += 2;
    else {
      i++;
      stack.push(el);
    }
  }
  if (stack.length > 0) throw new Error(`<${stack[stack.length - 1]!.name}> is never closed`);
  if (!root) throw new Error('no root element');
  return root;
}

/** Every element under `el` (itself included) named `name`, in document order. */
export function elementsNamed(el: XmlElement, name: string): XmlElement[] {
  return [...(el.name === name ? [el] : []), ...el.children.flatMap((c) => elementsNamed(c, name))];
}
