import { describe, expect, it } from 'vitest';
import { C_KEYWORDS, C_RULES, IdentifierPool, commentText, sanitizeIdentifier, type IdentifierRules } from '../../src/codegen/identifiers.js';

const VALID_C = /^[A-Za-z][A-Za-z0-9_]*$/;

const HOSTILE = [
  'dense',
  'conv2d_1',
  'a"b*/c\nd',
  '*/ int main(void) { return 1; } /*',
  'int',
  'for',
  'static',
  'restrict',
  'bool',
  'class',
  'main',
  'qk_buf0',
  'QK_FN',
  '层 слой κ',
  'café',
  'a-b',
  'a_b',
  'a b',
  'a__b',
  '',
  '   ',
  '___',
  '1st',
  '_Reserved',
  '__x',
  'isdigit',
  'strange',
  'memo',
  'EINVAL',
  'SIGTERM',
  'INT8_MAX',
  'x'.repeat(10_000),
  'x'.repeat(10_000) + 'y',
  '??/',
  'trailing\\',
  '\u0000\u0007\u001b',
  '😀',
];

describe('sanitizeIdentifier', () => {
  it('gives a valid, unreserved C identifier of at most 31 characters for any name', () => {
    for (const name of HOSTILE) {
      const id = sanitizeIdentifier(name, C_RULES);
      expect(id, JSON.stringify(name)).toMatch(VALID_C);
      expect(id.length).toBeLessThanOrEqual(31);
      expect(C_KEYWORDS.has(id)).toBe(false);
      for (const re of C_RULES.reserved ?? []) expect(re.test(id), `${id} matches ${re}`).toBe(false);
      expect(id).not.toContain('__');
    }
  });

  it('keeps ordinary names as they are', () => {
    expect(sanitizeIdentifier('conv2d_1', C_RULES)).toBe('conv2d_1');
    expect(sanitizeIdentifier('dense', C_RULES)).toBe('dense');
    expect(sanitizeIdentifier('q_dense-3', C_RULES)).toBe('q_dense_3');
    expect(sanitizeIdentifier('café', C_RULES)).toBe('cafe');
  });

  it('prefixes keywords, reserved namespaces and leading digits', () => {
    expect(sanitizeIdentifier('int', C_RULES)).toBe('n_int');
    expect(sanitizeIdentifier('1st', C_RULES)).toBe('n_1st');
    expect(sanitizeIdentifier('qk_buf0', C_RULES)).toBe('n_qk_buf0');
    expect(sanitizeIdentifier('strange', C_RULES)).toBe('n_strange');
    expect(sanitizeIdentifier('', C_RULES)).toBe('n');
  });

  it('keeps long names apart that differ only after the cut', () => {
    const a = sanitizeIdentifier('x'.repeat(10_000), C_RULES);
    const b = sanitizeIdentifier('x'.repeat(10_000) + 'y', C_RULES);
    expect(a).not.toBe(b);
    expect(a.length).toBe(31);
  });

  it('takes the keyword set as a parameter (the Verilog back-end passes its own)', () => {
    const verilog: IdentifierRules = { keywords: new Set(['module', 'wire', 'reg', 'input']), maxLength: 64, fallbackPrefix: 'v_' };
    expect(sanitizeIdentifier('module', verilog)).toBe('v_module');
    expect(sanitizeIdentifier('int', verilog)).toBe('int');
    const vhdl: IdentifierRules = { ...verilog, caseInsensitive: true };
    expect(sanitizeIdentifier('MODULE', vhdl)).toBe('v_MODULE');
  });
});

describe('IdentifierPool', () => {
  it('hands out unique identifiers even when names collide after sanitising', () => {
    const pool = new IdentifierPool(C_RULES);
    const ids = HOSTILE.map((n) => pool.claim(n));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.slice(15, 19)).toEqual(['a_b', 'a_b_2', 'a_b_3', 'a_b_4']);
    for (const id of ids) expect(id).toMatch(VALID_C);
  });

  it('is deterministic and respects reserved names', () => {
    const claim = (): string[] => {
      const pool = new IdentifierPool(C_RULES);
      pool.reserve('model_predict');
      return ['model_predict', 'x', 'x', 'x'].map((n) => pool.claim(n));
    };
    expect(claim()).toEqual(['model_predict_2', 'x', 'x_2', 'x_3']);
    expect(claim()).toEqual(claim());
  });

  it('compares without case when the rules say so', () => {
    const pool = new IdentifierPool({ keywords: new Set(), maxLength: 20, fallbackPrefix: 'v_', caseInsensitive: true });
    expect([pool.claim('Acc'), pool.claim('acc'), pool.claim('ACC')]).toEqual(['Acc', 'acc_2', 'ACC_3']);
  });
});

describe('commentText', () => {
  it('cannot close or open a comment, continue a line, or hide a trigraph', () => {
    for (const name of HOSTILE) {
      const t = commentText(name);
      expect(t).not.toMatch(/\*\/|\/\*|\/\/|\?\?|[\n\r]|\\$/);
      expect(t).toMatch(/^[\x20-\x7e]*$/);
      expect(t.length).toBeLessThanOrEqual(160);
    }
    expect(commentText('a*/b')).toBe('a* /b');
    expect(commentText('*//')).toBe('* / /');
    expect(commentText('x\ny')).toBe('x y');
    expect(commentText('κ')).toBe('<U+03BA>');
    expect(commentText('x'.repeat(1000), 40)).toMatch(/^x{28}\.\.\.#[0-9a-z]{6}$/);
  });
});
