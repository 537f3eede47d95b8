// The system user node processes run as, and the folders pifarm owns on the host.
import { BASE_DIR, CONFIG_DIR, RELEASES_DIR, RUN_USER } from './layout.js';
import { ProvisionError, type Step } from './types.js';

export const userStep: Step = {
  name: 'user+folders',
  async run(ctx) {
    const st = ctx.facts.pifarm;
    const todo: string[] = [];
    if (!st.user) todo.push(`user ${RUN_USER}`);
    for (const d of [BASE_DIR, RELEASES_DIR, CONFIG_DIR]) if (!st.dirs.includes(d)) todo.push(d);
    if (todo.length === 0) return { status: 'ok', detail: `user ${RUN_USER} and folders present` };
    if (ctx.check) return { status: 'changed', detail: `would create ${todo.join(', ')}` };
    const cmd = [
      `id -u ${RUN_USER} >/dev/null 2>&1 || useradd --system --no-create-home --home-dir ${BASE_DIR} --shell /usr/sbin/nologin ${RUN_USER}`,
      `mkdir -p ${RELEASES_DIR} ${CONFIG_DIR}`,
      `chmod 755 ${BASE_DIR} ${RELEASES_DIR}`,
      `chown root:${RUN_USER} ${CONFIG_DIR} && chmod 750 ${CONFIG_DIR}`,
    ].join(' && ');
    const c = await ctx.t.exec(cmd, { sudo: true });
    if (c.code !== 0) throw new ProvisionError(`${ctx.host.name}: cannot create ${todo.join(', ')}: ${c.stderr.trim()}`);
    st.user = true;
    st.dirs = [BASE_DIR, RELEASES_DIR, CONFIG_DIR];
    return { status: 'changed', detail: `created ${todo.join(', ')}` };
  },
};
