import type { App } from './app.js';
import type { Binder } from './binding.js';
import { ErrFileExisted, ErrIllegalObjectName, ErrObjectNotExist, ErrOneObjectOnly, ErrPathNotExist, ok, Panic, paramError } from './envelope.js';
import { deleteObjects, resolvePath } from './filesystem.js';
import { IdType } from './ids.js';
import { isAllowedExtension, isLegalName } from './names.js';
import { type Ctx, type Route, loginRequired } from './route.js';
import type { FileRecord, Folder, User } from './store.js';
import { rfc3339 } from './timefmt.js';

const pathRules = { required: true, min: 1, max: 65535 } as const;
const folderPropsTtlMs = 300_000;

/** `ItemIDService`: raw id lists, and the ids that decode (the rest are dropped silently). */
interface Items {
  readonly rawCount: number;
  readonly files: number[];
  readonly dirs: number[];
}

function readItems(app: App, body: Binder): Items {
  const items = body.strings('items');
  const dirs = body.strings('dirs');
  const decode = (hashes: string[], type: IdType): number[] => hashes.flatMap((h) => app.ids.decode(h, type) ?? []);
  return { rawCount: items.length + dirs.length, files: decode(items, IdType.file), dirs: decode(dirs, IdType.folder) };
}

/** `strconv.ParseBool` as gin's form binding uses it; absent = false. */
function queryBool(query: URLSearchParams, key: string): boolean {
  const value = query.get(key) ?? '';
  if (['', '0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  throw paramError('Parameter error');
}

/** Delete, move, rename, copy and properties of files and folders. */
export function objectRoutes(app: App): Route[] {
  const { store } = app;

  /** Both ends of a move or copy, looked up like listing paths. */
  async function bindTransfer(ctx: Ctx, user: User): Promise<{ items: Items; from: Folder; to: Folder }> {
    const body = await ctx.bind();
    const srcDir = body.string('src_dir', 'SrcDir', pathRules);
    const items = readItems(app, body.object('src'));
    const dst = body.string('dst', 'Dst', pathRules);
    body.finish();
    return { items, ...endpoints(user, srcDir, dst) };
  }

  function endpoints(user: User, srcDir: string, dst: string): { from: Folder; to: Folder } {
    const to = resolvePath(store, user, dst);
    const from = resolvePath(store, user, srcDir);
    if (to === undefined || from === undefined) throw ErrPathNotExist;
    return { from, to };
  }

  /** `MoveFolderTo` then `MoveOrCopyFileTo`: two statements, each all-or-nothing on the unique index. */
  function move(user: User, items: Items, from: Folder, to: Folder): void {
    // Moving into a descendant is not detected (the real server creates an orphaned cycle).
    if (items.dirs.includes(to.id)) throw ErrFileExisted;
    const now = app.clock.now();
    const folders = [...new Set(items.dirs)].flatMap((id) => {
      const folder = store.folderOf(user.id, id);
      return folder?.parentId === from.id ? [folder] : [];
    });
    if (folders.some((f) => (to.folders.get(f.name) ?? f.id) !== f.id)) throw ErrFileExisted;
    for (const folder of folders) store.moveFolder(folder, to, now);
    const files = [...new Set(items.files)].flatMap((id) => {
      const file = store.fileOf(user.id, id);
      return file?.folderId === from.id ? [file] : [];
    });
    if (files.some((f) => (to.files.get(f.name) ?? f.id) !== f.id)) throw ErrFileExisted;
    for (const file of files) store.moveFile(file, to, now);
  }

  function copyFileTo(file: FileRecord, to: Folder, now: number): void {
    // A clash fails on the unique index and is reported as "object not exist".
    if (to.files.has(file.name)) throw ErrObjectNotExist;
    app.blobs.ref(file.blob);
    store.createFile({ ...file, folderId: to.id, createdAt: now, updatedAt: now });
  }

  /** `CopyFolderTo`: the folder need not be inside src_dir; files still uploading are skipped. */
  function copyFolder(user: User, id: number, to: Folder): void {
    const now = app.clock.now();
    const originals = store.descendants([id], user.id);
    const copies = new Map<number, Folder>();
    for (const folder of originals) {
      const parent = folder.id === id ? to : copies.get(folder.parentId ?? -1);
      if (parent === undefined || parent.folders.has(folder.name)) throw ErrObjectNotExist;
      copies.set(folder.id, store.createFolder(parent, folder.name, now));
    }
    for (const file of store.filesIn(originals)) {
      const parent = copies.get(file.folderId);
      if (file.uploadSessionId === null && parent !== undefined) copyFileTo(file, parent, now);
    }
  }

  return [
    {
      method: 'DELETE',
      pattern: '/api/v3/object',
      scope: 'api',
      handle: loginRequired(async (ctx, user) => {
        const body = await ctx.bind();
        // force and unlink only matter when physical deletion fails, which it never does here.
        const items = readItems(app, body);
        body.finish();
        await deleteObjects(app, user, items.dirs, items.files);
        return ok();
      }),
    },
    {
      method: 'PATCH',
      pattern: '/api/v3/object',
      scope: 'api',
      handle: loginRequired(async (ctx, user) => {
        const { items, from, to } = await bindTransfer(ctx, user);
        move(user, items, from, to);
        return ok();
      }),
    },
    {
      method: 'POST',
      pattern: '/api/v3/object/rename',
      scope: 'api',
      handle: loginRequired(async (ctx, user) => {
        const body = await ctx.bind();
        const items = readItems(app, body.object('src'));
        const name = body.string('new_name', 'NewName', { required: true, min: 1, max: 255 });
        body.finish();
        if (items.rawCount > 1) throw ErrOneObjectOnly;
        const fileTypes = store.currentPolicy(user).fileTypes;
        if (!isLegalName(name) || (items.files.length > 0 && !isAllowedExtension(fileTypes, name))) throw ErrIllegalObjectName;
        if (items.files.length > 0) {
          const file = store.fileOf(user.id, items.files[0]);
          if (file === undefined) throw ErrPathNotExist;
          if ((store.folder(file.folderId).files.get(name) ?? file.id) !== file.id) throw ErrFileExisted;
          store.renameFile(file, name, app.clock.now());
          return ok();
        }
        const folder = store.folderOf(user.id, items.dirs[0]);
        if (folder === undefined) throw ErrPathNotExist;
        const parent = folder.parentId === null ? undefined : store.folder(folder.parentId);
        if ((parent?.folders.get(name) ?? folder.id) !== folder.id) throw ErrFileExisted;
        store.renameFolder(folder, name);
        return ok();
      }),
    },
    {
      method: 'POST',
      pattern: '/api/v3/object/copy',
      scope: 'api',
      handle: loginRequired(async (ctx, user) => {
        const { items, from, to } = await bindTransfer(ctx, user);
        if (items.rawCount > 1) throw ErrOneObjectOnly;
        const [dirId] = items.dirs;
        const file = store.fileOf(user.id, items.files[0]);
        if (dirId !== undefined) copyFolder(user, dirId, to);
        else if (file !== undefined && file.folderId === from.id && file.uploadSessionId === null) copyFileTo(file, to, app.clock.now());
        return ok();
      }),
    },
    propertyRoute(app),
  ];
}

interface FolderProps {
  readonly size: number;
  readonly childFolderNum: number;
  readonly childFileNum: number;
  readonly path: string;
  readonly queryDate: number;
}

/** `GetProperty`; folder totals are cached for folder_props_timeout (300 s), dates excepted. */
function propertyRoute(app: App): Route {
  const { store } = app;
  const cache = new Map<number, { props: FolderProps; expiresAt: number }>();

  function folderProps(user: User, folder: Folder, traceRoot: boolean): FolderProps {
    const now = app.clock.now();
    const cached = cache.get(folder.id);
    if (cached !== undefined && cached.expiresAt > now) return cached.props;
    const subtree = store.descendants([folder.id], user.id);
    const files = store.filesIn(subtree);
    const props: FolderProps = {
      size: files.reduce((sum, f) => sum + f.size, 0),
      childFolderNum: subtree.length - 1,
      childFileNum: files.length,
      path: traceRoot && folder.parentId !== null ? store.folderPath(store.folder(folder.parentId)) : '',
      queryDate: now,
    };
    cache.set(folder.id, { props, expiresAt: now + folderPropsTtlMs });
    return props;
  }

  return {
    method: 'GET',
    pattern: '/api/v3/object/property/:id',
    scope: 'api',
    handle: loginRequired((ctx, user) => {
      const traceRoot = queryBool(ctx.query, 'trace_root');
      const isFolder = queryBool(ctx.query, 'is_folder');
      const id = app.ids.decode(ctx.params.id ?? '', isFolder ? IdType.folder : IdType.file);
      if (id === null) return { kind: 'envelope', status: 200, code: 404, msg: '' };
      // A well-formed id of a missing record: the handler indexes an empty result and panics.
      if (isFolder) {
        const folder = store.folderOf(user.id, id);
        if (folder === undefined) throw new Panic('index out of range');
        const props = folderProps(user, folder, traceRoot);
        return ok({
          created_at: rfc3339(folder.createdAt), updated_at: rfc3339(folder.updatedAt), policy: '', size: props.size,
          child_folder_num: props.childFolderNum, child_file_num: props.childFileNum, path: props.path,
          query_date: rfc3339(props.queryDate),
        });
      }
      const file = store.fileOf(user.id, id);
      if (file === undefined) throw new Panic('index out of range');
      return ok({
        created_at: rfc3339(file.createdAt), updated_at: rfc3339(file.updatedAt), policy: store.policy(file.policyId).name,
        size: file.size, child_folder_num: 0, child_file_num: 0,
        path: traceRoot ? store.folderPath(store.folder(file.folderId)) : '', query_date: rfc3339(app.clock.now()),
      });
    }),
  };
}
