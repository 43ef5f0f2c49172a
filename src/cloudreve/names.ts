/** Characters Cloudreve v3 refuses in any name (pkg/filesystem/validator.go). */
const forbidden = ['\\', '?', '*', '<', '"', ':', '>', '/', '|'];
const maxNameBytes = 255;

/** Why Cloudreve v3 would refuse `name` for a file or folder, or undefined when it is legal. */
export function invalidNameReason(name: string): string | undefined {
  if (name === '') return 'the name is empty';
  const bad = forbidden.filter((char) => name.includes(char));
  if (bad.length > 0) return `the name contains ${bad.map((char) => `"${char}"`).join(', ')}, which Cloudreve does not allow`;
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > maxNameBytes) return `the name is ${bytes} bytes long in UTF-8; Cloudreve allows at most ${maxNameBytes}`;
  if (name.endsWith(' ')) return 'the name ends with a space, which Cloudreve does not allow';
  // Legal for the server, but the listing/move paths would read them as path steps.
  if (name === '.' || name === '..') return `"${name}" cannot be used as a name`;
  return undefined;
}
