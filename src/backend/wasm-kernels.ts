/** Kernels the wasm backend lacks for training, registered before the backend is selected. */
export function registerWasmTrainingKernels(): void {
  // Filled in by the foundation issue's kernel work (Conv2DBackpropFilter, depthwise backprops, ...).
}
