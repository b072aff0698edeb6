/**
 * Identifiers and comments for generated source, from names nobody controls: Keras layer names may hold
 * quotes, `*\/`, newlines, keywords, unicode or thousands of characters, and two different names may look
 * alike once cleaned. Every name handed out here is a valid identifier of the target language (the rules
 * are a parameter: C here, Verilog in its back-end), unique within its pool, deterministic for a given order
 * of claims, and every comment text is safe inside a block or line comment.
 */

/** What makes an identifier valid and unreserved in one target language. */
export interface IdentifierRules {
  /** Words that may not be used as identifiers (keywords, predefined types and macros). */
  readonly keywords: ReadonlySet<string>;
  /** Longest identifier handed out (keep margin for suffixes the caller appends). */
  readonly maxLength: number;
  /** Compare names ignoring case when checking uniqueness and keywords (VHDL-like targets). */
  readonly caseInsensitive?: boolean;
  /** Namespaces an identifier must stay out of (reserved by the language or by our own kernels). */
  readonly reserved?: readonly RegExp[];
  /** Letter-led prefix put before a name that would start with a digit, be empty, reserved or a keyword. */
  readonly fallbackPrefix: string;
}

/** C99 keywords, later C keywords, C++ keywords (headers are often included from C++), common macros. */
export const C_KEYWORDS: ReadonlySet<string> = new Set([
  // C99
  'auto', 'break', 'case', 'char', 'const', 'continue', 'default', 'do', 'double', 'else', 'enum', 'extern',
  'float', 'for', 'goto', 'if', 'inline', 'int', 'long', 'register', 'restrict', 'return', 'short', 'signed',
  'sizeof', 'static', 'struct', 'switch', 'typedef', 'union', 'unsigned', 'void', 'volatile', 'while',
  '_Bool', '_Complex', '_Imaginary',
  // C11 / C23
  '_Alignas', '_Alignof', '_Atomic', '_Generic', '_Noreturn', '_Static_assert', '_Thread_local', 'alignas',
  'alignof', 'bool', 'constexpr', 'false', 'nullptr', 'static_assert', 'thread_local', 'true', 'typeof',
  'typeof_unqual', '_BitInt', '_Decimal32', '_Decimal64', '_Decimal128',
  // C++
  'and', 'and_eq', 'asm', 'bitand', 'bitor', 'catch', 'char8_t', 'char16_t', 'char32_t', 'class', 'compl',
  'concept', 'const_cast', 'consteval', 'constinit', 'co_await', 'co_return', 'co_yield', 'decltype', 'delete',
  'dynamic_cast', 'explicit', 'export', 'friend', 'mutable', 'namespace', 'new', 'noexcept', 'not', 'not_eq',
  'operator', 'or', 'or_eq', 'private', 'protected', 'public', 'reinterpret_cast', 'requires', 'static_cast',
  'template', 'this', 'throw', 'try', 'typeid', 'typename', 'using', 'virtual', 'wchar_t', 'xor', 'xor_eq',
  // names the generated code and its headers rely on
  'NULL', 'main', 'errno', 'assert', 'offsetof', 'size_t', 'ptrdiff_t', 'complex', 'imaginary', 'I',
  'int8_t', 'int16_t', 'int32_t', 'int64_t', 'uint8_t', 'uint16_t', 'uint32_t', 'uint64_t', 'intptr_t',
  'uintptr_t', 'intmax_t', 'uintmax_t', 'wint_t', 'va_list', 'FILE', 'EOF', 'stdin', 'stdout', 'stderr',
  'abs', 'labs', 'malloc', 'free', 'memcpy', 'memset', 'printf', 'exit', 'abort',
]);

/**
 * C identifier rules: no leading `_` followed by a capital or `_` (reserved to the implementation), none of
 * the standard library's future namespaces (`is*`, `to*`, `str*`, `mem*`, `wcs*`, `E[0-9A-Z]*`, `SIG*`,
 * `LC_*`, `PRI*`, `SCN*`, `INT*`/`UINT*` macros, `*_MAX`/`*_MIN`-style `*_C` macros), and nothing in the
 * `qk_`/`QK_` namespace of the hand-written kernels. 31 characters keeps external names within C99's
 * guaranteed significance.
 */
export const C_RULES: IdentifierRules = {
  keywords: C_KEYWORDS,
  maxLength: 31,
  reserved: [
    /^_/,
    /^(is|to|str|mem|wcs)[a-z]/,
    /^E[0-9A-Z]/,
    /^SIG_?[A-Z]/,
    /^LC_[A-Z]/,
    /^(PRI|SCN)[a-zX]/,
    /^U?INT/,
    /^qk_/i,
  ],
  fallbackPrefix: 'n_',
};

/** FNV-1a over UTF-16 code units: a short stable fingerprint of the original name. */
function fingerprint(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36).padStart(7, '0').slice(-6);
}

function isBlocked(candidate: string, rules: IdentifierRules): boolean {
  const key = rules.caseInsensitive === true ? candidate.toLowerCase() : candidate;
  for (const k of rules.keywords) {
    if ((rules.caseInsensitive === true ? k.toLowerCase() : k) === key) return true;
  }
  return (rules.reserved ?? []).some((re) => re.test(candidate));
}

/**
 * A valid identifier for `name` (not yet unique): ASCII letters, digits and single underscores, starting
 * with a letter, no keyword, no reserved namespace, at most `maxLength` characters. Names that had to be
 * shortened get a fingerprint of the full name so that long names differing only at the end stay apart.
 */
export function sanitizeIdentifier(name: string, rules: IdentifierRules): string {
  let s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // accents dropped after decomposition: é → e
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  const prefix = rules.fallbackPrefix;
  if (s === '' || /^[0-9]/.test(s) || isBlocked(s, rules)) s = `${prefix}${s}`.replace(/_+$/, '');
  if (s === '' || isBlocked(s, rules)) s = `${prefix}x`;
  if (s.length > rules.maxLength) {
    const tag = `_${fingerprint(name)}`;
    s = s.slice(0, rules.maxLength - tag.length).replace(/_+$/, '') + tag;
  }
  return s;
}

/**
 * Hands out unique identifiers. Claims are deterministic: the same names claimed in the same order give
 * the same identifiers. `reserve` blocks names the caller writes itself (fixed helper names).
 */
export class IdentifierPool {
  private readonly taken = new Set<string>();

  constructor(readonly rules: IdentifierRules) {}

  private key(id: string): string {
    return this.rules.caseInsensitive === true ? id.toLowerCase() : id;
  }

  /** Marks identifiers as used without handing them out. */
  reserve(...ids: readonly string[]): void {
    for (const id of ids) this.taken.add(this.key(id));
  }

  has(id: string): boolean {
    return this.taken.has(this.key(id));
  }

  /** A new unique identifier derived from `name` (suffixed `_2`, `_3`, ... on collisions). */
  claim(name: string): string {
    const base = sanitizeIdentifier(name, this.rules);
    let id = base;
    for (let k = 2; this.has(id) || isBlocked(id, this.rules); k += 1) {
      const tail = `_${k}`;
      id = base.slice(0, this.rules.maxLength - tail.length).replace(/_+$/, '') + tail;
    }
    this.taken.add(this.key(id));
    return id;
  }
}

/**
 * Text that is safe inside `/* ... *\/` and after `//` in C, C++ and Verilog: one line of printable ASCII,
 * no comment terminator or opener, no trigraph, no trailing backslash; other characters become `<U+XXXX>`.
 * Long texts are cut to `maxLength` characters with a fingerprint of the whole.
 */
export function commentText(text: string, maxLength = 160): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (cp === 0x09 || cp === 0x0a || cp === 0x0d) out += ' ';
    else out += `<U+${cp.toString(16).toUpperCase().padStart(4, '0')}>`;
  }
  out = out
    .replace(/\*\//g, '* /')
    .replace(/\/\*/g, '/ *')
    .replace(/\/\//g, '/ /')
    .replace(/\?\?/g, '? ?');
  // Repeat: replacing one pattern can create another (e.g. "*//" → "* //").
  while (/\*\/|\/\*|\/\/|\?\?/.test(out)) {
    out = out.replace(/\*\//g, '* /').replace(/\/\*/g, '/ *').replace(/\/\//g, '/ /').replace(/\?\?/g, '? ?');
  }
  if (out.length > maxLength) out = `${out.slice(0, maxLength - 12)}...#${fingerprint(text)}`;
  return out.replace(/[\\ ]+$/, '');
}
