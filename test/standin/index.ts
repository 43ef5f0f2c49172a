export type {
  AddUserOptions,
  Fault,
  OpenUploadSession,
  PolicyChange,
  PolicyType,
  Standin,
  StandinControl,
  StandinOptions,
  StandinUser,
} from './types.js';
export { startStandin } from './standin.js';
