// Simulators of the digital-post parties (../shared/specs/digital-post.md §5, §6; style.md convention 6):
// FaR (isReachable) and mailbox operators (deliverSecure), over HTTPS with mutual TLS on real sockets.
// They never import the adapter's mappers or clients. Scripted test data: README.md in this folder.
export { startFarSimulator, type FarSimulator, type FarSimulatorCall, type FarSimulatorOptions } from './far.simulator.js';
export {
  startMailboxOperatorSimulator,
  type AcceptedDelivery,
  type MailboxOperatorCall,
  type MailboxOperatorSimulator,
  type MailboxOperatorSimulatorOptions,
} from './mailbox-operator.simulator.js';
export {
  DEFAULT_FAR_SCRIPT,
  DEFAULT_OPERATOR_SCRIPT,
  SIM_OPERATORS,
  TEST_RECIPIENTS,
  TEST_REJECTED_SENDER,
  type FarScript,
  type OperatorScript,
  type SimOperator,
} from './scripted-data.js';
