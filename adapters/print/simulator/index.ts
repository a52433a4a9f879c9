// Simulator of the print-and-post provider (../shared/specs/digital-post.md §8.2; style.md convention 6).
export { startPrintSimulator, type PrintSimulator, type PrintSimulatorCall, type PrintSimulatorJob, type PrintSimulatorOptions } from './print.simulator.js';
