/** qkeras-ts package root: a plain list of the modules' public surfaces. */
export * from './quantizers/index.js';
export { ready } from './backend/index.js';
export { ConfigError, QKerasError, QuantizerSpecError, UnsupportedError } from './errors.js';
