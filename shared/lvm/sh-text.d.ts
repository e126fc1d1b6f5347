// The on-instance scripts are bundled into Lambda code as text by esbuild's text loader (serverless.yml
// custom.esbuild.loader); this tells TypeScript what such an import yields. See shared/lvm/scripts.ts.
declare module '*.sh' {
  const text: string;
  export default text;
}
