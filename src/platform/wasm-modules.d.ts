/** `.wasm` imports in the Workers entry: a compiled module, as workerd and wrangler provide. */
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
