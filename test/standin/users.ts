import type { App } from './app.js';
import { AppError, ok, type Reply } from './envelope.js';
import { type Route, loginRequired } from './route.js';
import { userJson } from './serialize.js';
import { verifyTotp } from './totp.js';

const ErrCredentialInvalid = new AppError(40020, 'Wrong password or email address');
const ErrLoginSessionNotExist = new AppError(40023, 'Login session not exist');
const Err2FACode = new AppError(40022, '2FA code not correct');
const ErrUserNotFound = new AppError(40021, 'User not found');
const ErrEmailExisted = new AppError(40032, 'Email already in use');

/** Default `themes` setting (models/defaults.go), a JSON string. */
const themes = JSON.stringify({
  '#3f51b5': { palette: { primary: { main: '#3f51b5' }, secondary: { main: '#f50057' } } },
  '#2196f3': { palette: { primary: { main: '#2196f3' }, secondary: { main: '#FFC107' } } },
});

/** Site information, login with optional 2FA, logout, registration, the current user. */
export function userRoutes(app: App): Route[] {
  const { store } = app;
  return [
    { method: 'GET', pattern: '/api/v3/site/ping', scope: 'api', handle: () => ok('3.8.3') },
    {
      method: 'GET',
      pattern: '/api/v3/site/config',
      scope: 'api',
      handle: (ctx) => {
        // CSRFInit stores a flag, so this call (re)issues the cookie.
        ctx.session.set('CSRF', true);
        return ok({
          title: 'Cloudreve', loginCaptcha: false, regCaptcha: false, forgetCaptcha: false, emailActive: false,
          themes, defaultTheme: '#3f51b5', home_view_method: 'icon', share_view_method: 'list', authn: false,
          user: userJson(app, ctx.user), captcha_ReCaptchaKey: 'defaultKey', captcha_type: 'normal',
          tcaptcha_captcha_app_id: '', registerEnabled: true, app_promotion: true, wopi_exts: null,
        });
      },
    },
    {
      method: 'POST',
      pattern: '/api/v3/user/session',
      scope: 'api',
      handle: async (ctx): Promise<Reply> => {
        const body = await ctx.bind();
        const email = body.string('userName', 'UserName', { required: true, email: true });
        const password = body.string('Password', 'Password', { required: true, min: 4, max: 64 });
        body.finish();
        const user = store.userByEmail(email);
        if (user?.password !== password) throw ErrCredentialInvalid;
        if (user.totpSecret !== null) {
          ctx.session.set('2fa_user_id', user.id);
          return { kind: 'envelope', status: 200, code: 203, msg: '' };
        }
        ctx.session.set('user_id', user.id);
        return ok(userJson(app, user));
      },
    },
    {
      method: 'POST',
      pattern: '/api/v3/user/2fa',
      scope: 'api',
      handle: async (ctx) => {
        const body = await ctx.bind();
        const code = body.string('code', 'Code', { required: true });
        body.finish();
        const pending = ctx.session.get('2fa_user_id');
        if (typeof pending !== 'number') throw ErrLoginSessionNotExist;
        const user = store.users.get(pending);
        if (user === undefined) throw ErrUserNotFound;
        // Wall-clock time: the client's authenticator does not follow advanceClock.
        if (!verifyTotp(user.totpSecret ?? '', code, Date.now())) throw Err2FACode;
        ctx.session.delete('2fa_user_id');
        ctx.session.set('user_id', user.id);
        return ok(userJson(app, user));
      },
    },
    {
      method: 'DELETE',
      pattern: '/api/v3/user/session',
      scope: 'api',
      handle: loginRequired((ctx) => {
        ctx.session.delete('user_id');
        return ok();
      }),
    },
    {
      method: 'POST',
      pattern: '/api/v3/user',
      scope: 'api',
      handle: async (ctx) => {
        const body = await ctx.bind();
        const email = body.string('userName', 'UserName', { required: true, email: true });
        const password = body.string('Password', 'Password', { required: true, min: 4, max: 64 });
        body.finish();
        if (store.userByEmail(email) !== undefined) throw ErrEmailExisted;
        store.addUser(email, password, 2, null, app.clock.now());
        return ok();
      },
    },
    { method: 'GET', pattern: '/api/v3/user/me', scope: 'api', handle: loginRequired((_ctx, user) => ok(userJson(app, user))) },
    {
      method: 'GET',
      pattern: '/api/v3/user/storage',
      scope: 'api',
      handle: loginRequired((_ctx, user) => {
        const total = store.group(user.groupId).quota;
        return ok({ used: user.used, free: Math.max(0, total - user.used), total });
      }),
    },
  ];
}
