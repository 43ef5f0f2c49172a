import { ext } from './gopath.js';

const reservedCharacters = ['\\', '?', '*', '<', '"', ':', '>', '/', '|'];

/** `ValidateLegalName` (pkg/filesystem/validator.go). Byte length, not characters. */
export function isLegalName(name: string): boolean {
  const bytes = Buffer.byteLength(name, 'utf8');
  return (
    bytes > 0 && bytes < 256 && !name.endsWith(' ') && !reservedCharacters.some((c) => name.includes(c))
  );
}

/** `IsInExtensionList`: lower-cased last extension; names without one fail a non-empty list. */
export function isAllowedExtension(fileTypes: readonly string[], name: string): boolean {
  if (fileTypes.length === 0) return true;
  const extension = ext(name).toLowerCase();
  return extension !== '' && fileTypes.includes(extension.slice(1));
}
