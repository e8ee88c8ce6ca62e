// What every page imports: the DOM builder, messages and the shared widgets.
export {h, svg, clear, append, replace, uid} from '../dom.js';
export * from '../ui.js';
