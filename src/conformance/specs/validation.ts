import { expect } from '../jest-globals';
import type {
  LinkIdentityInput,
  UpsertUserInput,
  UserEngineStore,
  UserPatch,
  UserStatus,
} from '../../store/contract';
import { LIMITS } from '../../store/validation';
import { spec, type ContractId, type Spec, type SpecGroup } from '../spec';
import { allEventViews, seedUser, UNKNOWN_ID } from '../support';

type Call = (store: UserEngineStore) => Promise<unknown>;

/** Lets a spec pass a value of the wrong type, as an untyped caller would. */
function untyped<T>(value: unknown): T {
  return value as T;
}

/** The input rule of each field (docs/store-contract.md, Input rules), by field name. */
const FIELD_RULE: Readonly<Record<string, ContractId>> = {
  email: 'C-input-3',
  displayName: 'C-input-4',
  status: 'C-input-5',
  provider: 'C-input-6',
  subject: 'C-input-7',
  id: 'C-input-8',
  userId: 'C-input-8',
  expectedRevision: 'C-input-9',
  after: 'C-input-11',
  afterSequence: 'C-input-12',
};
const STRING_REASONS = ['not_a_string', 'lone_surrogate', 'nul_character'];

/**
 * The ids a rejection checks, read off its field and reason: the field's rule (or the rule for
 * every string), and the naming rule when the field is prefixed (`inputs[i].`, `patch.`).
 */
function rejectionCovers(
  field: string,
  reason: string,
  extra: readonly ContractId[],
): ContractId[] {
  const base = field.replace(/^(inputs\[\d+\]\.|patch\.)/, '');
  const rule = STRING_REASONS.includes(reason) ? 'C-input-2' : FIELD_RULE[base];
  const ids: ContractId[] = [...(rule ? [rule] : []), ...extra];
  if (base !== field) ids.push('C-input-14');
  return ids;
}

function rejects(
  name: string,
  call: Call,
  field: string,
  reason: string,
  extra: readonly ContractId[] = [],
): Spec {
  return {
    name: `${name} is invalid_input on ${field} (${reason})`,
    covers: rejectionCovers(field, reason, extra),
    async run({ store }) {
      await expect(call(store)).rejects.toMatchObject({ code: 'invalid_input', field, reason });
    },
  };
}

/** An accepted value must also come back exactly (trimmed where the contract trims). */
function acceptsUser(name: string, input: UpsertUserInput): Spec {
  return spec(
    `${name} is accepted`,
    ['C-input-1', 'C-input-3', 'C-input-4', 'C-model-2'],
    async ({ store }) => {
      const { user, created } = await store.upsertUser(input);
      expect(created).toBe(true);
      expect(user).toMatchObject({
        email: input.email.trim(),
        displayName: input.displayName.trim(),
      });
    },
  );
}

function acceptsLink(name: string, provider: string, subject: string): Spec {
  return spec(`${name} is accepted`, ['C-input-1', 'C-input-6', 'C-input-7'], async ({ store }) => {
    const user = await seedUser(store, 'linked@x.io');
    const result = await store.linkIdentity({ userId: user.id, provider, subject });
    expect(result).toMatchObject({ linked: true, identity: { provider, subject } });
  });
}

const upsertEmail =
  (email: unknown): Call =>
  (s) =>
    s.upsertUser(untyped<UpsertUserInput>({ email, displayName: 'V' }));
const upsertName =
  (displayName: unknown): Call =>
  (s) =>
    s.upsertUser(untyped<UpsertUserInput>({ email: 'v@x.io', displayName }));
const upsertStatus =
  (status: string): Call =>
  (s) =>
    s.upsertUser({ email: 'v@x.io', displayName: 'V', status: untyped<UserStatus>(status) });
const patch =
  (value: UserPatch): Call =>
  async (s) => {
    const user = await seedUser(s, 'patched@x.io');
    return s.updateUser(user.id, value, { expectedRevision: 1 });
  };
const link =
  (provider: unknown, subject: unknown): Call =>
  async (s) => {
    const user = await seedUser(s, 'linked@x.io');
    return s.linkIdentity(untyped<LinkIdentityInput>({ userId: user.id, provider, subject }));
  };

const EMAIL_254 = `${'a'.repeat(LIMITS.emailMax - 5)}@x.io`;
const EMAIL_255 = `${'a'.repeat(LIMITS.emailMax - 4)}@x.io`;
const NAME_200 = 'n'.repeat(LIMITS.displayNameMax);
const SUBJECT_255 = 's'.repeat(LIMITS.subjectMax);

const EMAIL_CASES: Spec[] = [
  rejects('an email without @', upsertEmail('example.com'), 'email', 'not_one_at_sign'),
  rejects('an email with two @', upsertEmail('a@b@x.io'), 'email', 'not_one_at_sign'),
  rejects('an email with an empty local part', upsertEmail('@x.io'), 'email', 'empty_part'),
  rejects('an email with an empty domain', upsertEmail('a@'), 'email', 'empty_part'),
  rejects('an empty email', upsertEmail(''), 'email', 'empty'),
  rejects('a blank email', upsertEmail('   '), 'email', 'empty'),
  rejects('an email with a space inside', upsertEmail('a b@x.io'), 'email', 'whitespace'),
  rejects('an email with a no-break space', upsertEmail('a\u00A0b@x.io'), 'email', 'whitespace'),
  rejects(
    'an email with a control character',
    upsertEmail('a\u0007b@x.io'),
    'email',
    'control_character',
  ),
  rejects('an email with NUL', upsertEmail('a\u0000b@x.io'), 'email', 'nul_character'),
  rejects(
    'an email with a lone surrogate',
    upsertEmail('a\uD800b@x.io'),
    'email',
    'lone_surrogate',
  ),
  rejects('a 255-character email', upsertEmail(EMAIL_255), 'email', 'too_long'),
  rejects(
    'a 255-character email even when padded',
    upsertEmail(` ${EMAIL_255} `),
    'email',
    'too_long',
  ),
  rejects('a non-string email', upsertEmail(42), 'email', 'not_a_string'),
  acceptsUser('a 254-character email', { email: EMAIL_254, displayName: 'V' }),
  acceptsUser('a 254-character email padded with spaces', {
    email: `  ${EMAIL_254}  `,
    displayName: 'V',
  }),
  acceptsUser('an email of 254 code points made of astral characters', {
    email: `${'\u{1F600}'.repeat(LIMITS.emailMax - 5)}@x.io`,
    displayName: 'V',
  }),
  rejects(
    'a bad email in a batch',
    (s) =>
      s.upsertUsers([
        { email: 'ok@x.io', displayName: 'V' },
        { email: 'a@@x.io', displayName: 'V' },
      ]),
    'inputs[1].email',
    'not_one_at_sign',
  ),
  rejects('a bad email in a patch', patch({ email: 'nope' }), 'patch.email', 'not_one_at_sign'),
];

const NAME_CASES: Spec[] = [
  rejects('an empty display name', upsertName(''), 'displayName', 'empty'),
  rejects('a blank display name', upsertName(' \t '), 'displayName', 'empty'),
  rejects('a 201-character display name', upsertName(`${NAME_200}x`), 'displayName', 'too_long'),
  rejects('a display name with NUL', upsertName('a\u0000b'), 'displayName', 'nul_character'),
  rejects('a non-string display name', upsertName(null), 'displayName', 'not_a_string'),
  rejects(
    'a display name with a lone surrogate',
    upsertName('a\uDC00b'),
    'displayName',
    'lone_surrogate',
  ),
  acceptsUser('a 200-character display name', { email: 'v@x.io', displayName: NAME_200 }),
  acceptsUser('a 200-character display name padded with spaces', {
    email: 'v@x.io',
    displayName: ` ${NAME_200} `,
  }),
  acceptsUser('a display name of 200 astral characters', {
    email: 'v@x.io',
    displayName: '\u{1F600}'.repeat(LIMITS.displayNameMax),
  }),
  rejects(
    'a bad display name in a batch',
    (s) => s.upsertUsers([{ email: 'ok@x.io', displayName: '' }]),
    'inputs[0].displayName',
    'empty',
  ),
  rejects(
    'a blank display name in a patch',
    patch({ displayName: '  ' }),
    'patch.displayName',
    'empty',
  ),
];

const STATUS_CASES: Spec[] = [
  rejects('an unknown status', upsertStatus('deleted'), 'status', 'unknown_status'),
  rejects('an upper-case status', upsertStatus('ACTIVE'), 'status', 'unknown_status'),
  rejects(
    'an unknown status in a patch',
    patch({ status: untyped<UserStatus>('banned') }),
    'patch.status',
    'unknown_status',
  ),
  rejects(
    'an unknown status in a batch',
    (s) =>
      s.upsertUsers([{ email: 'ok@x.io', displayName: 'V', status: untyped<UserStatus>('gone') }]),
    'inputs[0].status',
    'unknown_status',
  ),
];

const IDENTITY_CASES: Spec[] = [
  rejects('an upper-case provider', link('GitHub', '1'), 'provider', 'bad_format'),
  rejects('a 65-character provider', link('p'.repeat(65), '1'), 'provider', 'bad_format'),
  rejects('a provider with a space', link('git hub', '1'), 'provider', 'bad_format'),
  rejects('a provider with a slash', link('git/hub', '1'), 'provider', 'bad_format'),
  rejects('an empty provider', link('', '1'), 'provider', 'bad_format'),
  acceptsLink('a 64-character provider', 'p'.repeat(LIMITS.providerMax), '1'),
  acceptsLink('a provider of a-z 0-9 . _ -', 'a-b.c_9', '1'),
  rejects('an empty subject', link('github', ''), 'subject', 'empty'),
  rejects('a 256-character subject', link('github', `${SUBJECT_255}x`), 'subject', 'too_long'),
  rejects('a subject with NUL', link('github', 'a\u0000b'), 'subject', 'nul_character'),
  rejects('a subject with a lone surrogate', link('github', '\uDC00'), 'subject', 'lone_surrogate'),
  acceptsLink('a 255-character subject', 'github', SUBJECT_255),
  acceptsLink(
    'a subject of 255 astral characters',
    'github',
    '\u{1F600}'.repeat(LIMITS.subjectMax),
  ),
  acceptsLink('a subject with spaces kept as given, untrimmed', 'ldap', ' CN=Jane Doe, O=Acme '),
  rejects(
    'a bad provider in findUserByIdentity',
    (s) => s.findUserByIdentity('GitHub', '1'),
    'provider',
    'bad_format',
  ),
  rejects(
    'a bad provider in unlinkIdentity',
    (s) => s.unlinkIdentity('', '1'),
    'provider',
    'bad_format',
  ),
  rejects(
    'an empty subject in findUserByIdentity',
    (s) => s.findUserByIdentity('github', ''),
    'subject',
    'empty',
  ),
];

const ID_CASES: Spec[] = [
  rejects('a non-UUID id in getUser', (s) => s.getUser('user-1'), 'id', 'not_a_uuid'),
  rejects('an empty id in getUser', (s) => s.getUser(''), 'id', 'not_a_uuid'),
  rejects('a braced UUID in getUser', (s) => s.getUser(`{${UNKNOWN_ID}}`), 'id', 'not_a_uuid'),
  rejects(
    'a non-UUID id in updateUser',
    (s) => s.updateUser('42', { displayName: 'X' }, { expectedRevision: 1 }),
    'id',
    'not_a_uuid',
  ),
  rejects('a non-UUID id in deleteUser', (s) => s.deleteUser("1' OR '1'='1"), 'id', 'not_a_uuid'),
  rejects(
    'a non-UUID userId in linkIdentity',
    (s) => s.linkIdentity({ userId: 'nope', provider: 'github', subject: '1' }),
    'userId',
    'not_a_uuid',
  ),
];

const REVISION_CASES: Spec[] = [0, 1.5, -1, '1'].map((revision) =>
  rejects(
    `an expectedRevision of ${JSON.stringify(revision)}`,
    async (s) => {
      const user = await seedUser(s, 'rev@x.io');
      return s.updateUser(
        user.id,
        { displayName: 'X' },
        { expectedRevision: untyped<number>(revision) },
      );
    },
    'expectedRevision',
    'not_a_positive_integer',
  ),
);

const ORDER_CASES: Spec[] = [
  rejects(
    'a bad patch for an unknown user (validation before not_found)',
    (s) => s.updateUser(UNKNOWN_ID, { email: 'bad' }, { expectedRevision: 1 }),
    'patch.email',
    'not_one_at_sign',
    ['C-order-5'],
  ),
  rejects(
    'a bad subject for an unknown user (validation before not_found)',
    (s) => s.linkIdentity({ userId: UNKNOWN_ID, provider: 'github', subject: '' }),
    'subject',
    'empty',
    ['C-order-5'],
  ),
];

/** Strings that break naive quoting, LIKE patterns, JSON or bidi handling. */
const HOSTILE: ReadonlyArray<[string, string]> = [
  ['quotes', `He said "hi" and it's 'fine'`],
  ['backslashes', 'C:\\path\\to\\x \\n \\0 \\\\'],
  ['LIKE wildcards', '100% _done_ %_%'],
  ['SQL injection', "'; DROP TABLE user_engine_users; --"],
  ['dollar quoting', "$$ $tag$ E'\\x00' $1"],
  ['emoji', '👩‍👩‍👧‍👦 🎉 \u{1F600}'],
  ['right-to-left text', 'مرحبا بالعالم \u202Eevil\u202C שלום'],
  ['JSON and line breaks', '{"a":[1,"\\u0000"]}\u2028x\u2029\r\ny'],
];

const HOSTILE_EMAILS: ReadonlyArray<[string, string]> = [
  ['quotes and backslashes', `o'brien+"x"\\y@x.io`],
  ['LIKE wildcards', '%_%@x.io'],
  ['SQL comment', "'--;@x.io"],
  ['emoji', '\u{1F600}@x.io'],
  ['right-to-left text', 'مرحبا@مثال.io'],
];

const HOSTILE_CASES: Spec[] = [
  ...HOSTILE.map(([label, value]) =>
    spec(
      `a display name with ${label} is stored and read back exactly`,
      ['C-model-2', 'C-input-4'],
      async ({ store }) => {
        const { user } = await store.upsertUser({ email: 'hostile@x.io', displayName: value });
        expect(user.displayName).toBe(value);
        expect((await store.getUser(user.id))?.displayName).toBe(value);
        expect((await store.listUsers()).items.map((u) => u.displayName)).toEqual([value]);
        expect((await allEventViews(store))[0].payload.displayName).toBe(value);
      },
    ),
  ),
  ...HOSTILE.map(([label, value]) =>
    spec(
      `a subject with ${label} is stored and read back exactly`,
      ['C-input-7'],
      async ({ store }) => {
        const user = await seedUser(store, 'hostile@x.io');
        await store.linkIdentity({ userId: user.id, provider: 'p', subject: value });
        expect((await store.listIdentities(user.id)).map((i) => i.subject)).toEqual([value]);
        expect(await store.findUserByIdentity('p', value)).toEqual(user);
        expect((await allEventViews(store))[1].payload.subject).toBe(value);
        expect(await store.unlinkIdentity('p', value)).toBe(true);
      },
    ),
  ),
  ...HOSTILE_EMAILS.map(([label, value]) =>
    spec(
      `an email with ${label} is stored and found again exactly`,
      ['C-input-3', 'C-read-2'],
      async ({ store }) => {
        const { user } = await store.upsertUser({ email: value, displayName: 'H' });
        expect(user.email).toBe(value);
        expect(await store.findUserByEmail(value)).toEqual(user);
        expect((await store.listUsers()).items).toEqual([user]);
        expect((await allEventViews(store))[0].payload.email).toBe(value);
      },
    ),
  ),
];

export const validationSpecs: SpecGroup = {
  title: 'validation',
  specs: [
    ...EMAIL_CASES,
    ...NAME_CASES,
    ...STATUS_CASES,
    ...IDENTITY_CASES,
    ...ID_CASES,
    ...REVISION_CASES,
    ...ORDER_CASES,
    ...HOSTILE_CASES,
  ],
};
