/**
 * Stands in for react-devtools-core in the screen's bundle (dist/ui.mjs): Ink imports it only
 * when DEV=true, and the package is not installed, so the bundle gets this no-op instead.
 */
export default { initialize: (): void => {}, connectToDevTools: (): void => {} };
