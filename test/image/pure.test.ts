// The pure pieces: SHA-512 crypt against published vectors and openssl, the WPA PSK against the
// IEEE 802.11i vector, cmdline.txt edits, flavour detection and the per-field checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomSalt, sha512Crypt, sha512Verify } from '../../src/image/sha512-crypt.js';
import { wpaPsk } from '../../src/image/wpa-psk.js';
import { patchCmdline } from '../../src/image/cmdline.js';
import { detectFlavour } from '../../src/image/flavour.js';
import * as v from '../../src/image/validate.js';
import { firstrunScript } from '../../src/image/firstrun.js';
import { userData } from '../../src/image/cloud-init.js';
import { parse } from 'yaml';

test('SHA-512 crypt matches Drepper\'s published vector and glibc/libxcrypt', () => {
  assert.equal(sha512Crypt('Hello world!', 'saltstring'), '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1');
  assert.equal(sha512Crypt('Hello world!', 'saltstringsaltstring', 10000), '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.');
  assert.equal(sha512Crypt('we have a short salt string but not a short password', 'roundstoolow', 10), '$6$rounds=1000$roundstoolow$yjTuW7RnC.d35QcVTFIb6uvh/7IQ1.GFtFN3i/.jwmeWEhzjf4uD/OPCb4jRl6atJGYhLst8IyR6YAtTrriMU1');
  // the two above with rounds= are also what libxcrypt's crypt(3) on Debian 12 returns
  assert.equal(sha512Crypt('a very much longer text to encrypt.  This one even stretches over morethan one line.', 'anotherlongsaltstring', 1400), '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1');
});

test('SHA-512 crypt agrees with openssl passwd -6 on random salts and odd passwords', () => {
  for (const pw of ['a', 'pässwörd with spaces', 'x'.repeat(80), "it's $HOME"]) {
    const salt = randomSalt();
    const ours = sha512Crypt(pw, salt);
    const theirs = execFileSync('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], { input: pw, encoding: 'utf8' }).trim();
    assert.equal(ours, theirs, `password ${JSON.stringify(pw)}`);
    assert.ok(sha512Verify(pw, ours));
    assert.ok(!sha512Verify(pw + '!', ours));
  }
});

test('WPA PSK matches the IEEE 802.11i test vectors', () => {
  assert.equal(wpaPsk('password', 'IEEE'), 'f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e');
  assert.equal(wpaPsk('ThisIsAPassword', 'ThisIsASSID'), '0dc0d6eb90555ed6419756b9a15ec3e3209b63df707dd508d14581f8982721af');
});

test('cmdline.txt: parameters appended once, one line, regdom kept before systemd.run', () => {
  const orig = 'console=serial0,115200 root=PARTUUID=1-02 rootwait\n';
  const once = patchCmdline(orig, { regdom: 'GB', firstrun: true });
  assert.equal(once, 'console=serial0,115200 root=PARTUUID=1-02 rootwait cfg80211.ieee80211_regdom=GB systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target\n');
  assert.equal(patchCmdline(once, { regdom: 'GB', firstrun: true }), once);
  assert.equal(patchCmdline(once, { regdom: 'DE', firstrun: false }), 'console=serial0,115200 root=PARTUUID=1-02 rootwait cfg80211.ieee80211_regdom=DE\n');
  // what firstrun.sh's own clean-up (sed 's| systemd.run.*||g') leaves keeps the regdom
  assert.equal(once.replace(/ systemd\.run.*/, ''), 'console=serial0,115200 root=PARTUUID=1-02 rootwait cfg80211.ieee80211_regdom=GB\n');
  assert.equal(patchCmdline('a\nb\n', { firstrun: false }), 'a b\n', 'a stray second line is joined: the firmware reads only one');
});

test('flavour detection', () => {
  const f = (names: string[]) => names.map((name) => ({ name, size: 1, dir: false }));
  assert.equal(detectFlavour('bootfs', f(['cmdline.txt', 'user-data']), undefined).format, 'cloud-init');
  assert.equal(detectFlavour('system-boot', f(['cmdline.txt']), undefined).os, 'ubuntu');
  assert.equal(detectFlavour('bootfs', f(['cmdline.txt', 'issue.txt']), 'Raspberry Pi reference\nGenerated using pi-gen, x\n').format, 'firstrun');
  assert.equal(detectFlavour('boot', f(['cmdline.txt']), undefined).format, 'legacy');
});

test('field checks accept good values and name the field on bad ones', () => {
  assert.equal(v.checkHostname('pi-01', 'h'), 'pi-01');
  for (const bad of ['-pi', 'pi-', 'pi_1', 'pi.lab', '', 'x'.repeat(64), '123']) assert.throws(() => v.checkHostname(bad, 'where'), /^ImageError: where: .*not a valid host name/);
  assert.throws(() => v.checkCountry('gb', 'c'), /c: "gb" is not an ISO 3166-1/);
  assert.equal(v.checkCountry('GB', 'c'), 'GB');
  assert.throws(() => v.checkPassphrase('1234567', 'p'), /8 to 63 characters, got 7/);
  assert.equal(v.checkPassphrase('x'.repeat(63), 'p').length, 63);
  assert.throws(() => v.checkPasswordHash('$1$abc$def', 'pw'), /neither yescrypt/);
  assert.ok(v.checkPasswordHash('$y$j9T$Tz3g2MdAKNCkRc.cQRPIs/$NfWr53Ejz6d6Ckhtt/IavRaVd8nNKGvL8q8uNSsQuG8', 'pw'));
  assert.ok(v.checkPasswordHash(sha512Crypt('x'), 'pw'));
  assert.throws(() => v.checkTimezone('Mars/Olympus', 't'), /not a time zone/);
  assert.throws(() => v.checkIpv4Cidr('192.168.1.300/24', 's'), /not an IPv4 address with a prefix/);
  assert.throws(() => v.checkUser('root', 'u'), /may not be "root"/);
  assert.throws(() => v.checkPublicKey('ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl x', 'k'), /says "ssh-rsa" but its data holds "ssh-ed25519"/);
  assert.throws(() => v.checkPublicKey('-----BEGIN OPENSSH PRIVATE KEY-----', 'k'), /not an OpenSSH public key/);
  assert.equal(v.checkPublicKey('ssh-ed25519  AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl  me@x ', 'k'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@x');
});

test('several authorised keys: all in user-data, and in one imager_custom call', () => {
  const k1 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a@x';
  const k2 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBu2lAo3Xt1Y0P1qH3Mbxr4lqkIeqH7w8D3CWaTm0ZfE b@y';
  const h = { hostname: 'pi1', user: 'pi', authorizedKeys: [k1, k2] };
  const fr = firstrunScript(h);
  assert.equal(fr.match(/enable_ssh -k/g)?.length, 1);
  assert.ok(fr.includes(`enable_ssh -k '${k1}' '${k2}'`));
  assert.ok(fr.includes(`printf '%s\\n' '${k1}' '${k2}' >"$FIRSTUSERHOME/.ssh/authorized_keys"`));
  assert.deepEqual(parse(userData(h, 'raspios')).user.ssh_authorized_keys, [k1, k2]);
  assert.equal(parse(userData(h, 'raspios')).user.lock_passwd, true, 'no hash: the password is locked');
  assert.ok(fr.includes("PWHASH='!'"), 'and firstrun locks it too');
});
