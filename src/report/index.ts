export { renderAnalysisTable } from './analysis-table.js';
export { renderFlowsTable } from './flows-table.js';
export { makeStyle, type Style } from './style.js';
