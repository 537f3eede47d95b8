// A Pi's health from what its firmware and kernel print (data in, health and words out).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHealth, parseThrottled } from '../../src/provision/health.js';

const out = (o: Record<string, string>) => Object.entries(o).map(([k, v]) => `${k}=${v}`).join('\n');

test('get_throttled bits: now (0-3) and since boot (16-19), from vcgencmd or sysfs', () => {
  const t = parseThrottled('0x50005')!;
  assert.deepEqual([t.underVoltageNow, t.throttledNow, t.freqCappedNow, t.underVoltageSinceBoot, t.throttledSinceBoot, t.freqCappedSinceBoot], [true, true, false, true, true, false]);
  assert.equal(parseThrottled('50000')!.underVoltageSinceBoot, true, 'sysfs prints the hex digits alone');
  assert.equal(parseThrottled('0x0')!.underVoltageSinceBoot, false);
  assert.equal(parseThrottled('error'), undefined);
});

test('an under-voltage Pi says so in words, with the speed it runs at', () => {
  const h = parseHealth(out({ throttled: '0x50000', temp: '48312', freq: '600000', load: '0.52 0.40 0.31 1/97 1234', memavail: '512000', memtotal: '944000', diskfree: '10240000', ntp: 'yes', uptime: '3600.5 7000' }), 'pi3');
  assert.deepEqual(h.warnings, ['pi3: under-voltage since boot: the power supply is too weak; it runs at 600 MHz', 'pi3: throttled since boot (by the under-voltage); it runs at 600 MHz']);
  assert.equal(h.tempC, 48.312);
  assert.deepEqual(h.load, [0.52, 0.4, 0.31]);
  assert.equal(h.memAvailableMb, 500);
  assert.equal(h.diskFreeMb, 10000);
  assert.equal(h.clockSynced, true);
  assert.equal(h.uptimeS, 3600.5);
});

test('heat throttling, an unsynchronised clock and a full disk; a healthy Pi has no warnings', () => {
  const hot = parseHealth(out({ throttled: '0x40004', freq: '1000000', maxfreq: '1500000', ntp: 'no', diskfree: '51200' }), 'pi4');
  assert.deepEqual(hot.warnings, [
    'pi4: throttled now (heat: a heatsink or a fan helps); it runs at 1000 MHz of 1500',
    'pi4: clock not synchronised: apt refuses package lists "not valid yet" until it is (check NTP or set the date)',
    'pi4: only 50 MB free on / (a release needs about 50 MB)',
  ]);
  assert.deepEqual(parseHealth(out({ throttled: '0x0', ntp: 'yes', diskfree: '9000000' }), 'pi5').warnings, []);
  assert.deepEqual(parseHealth('', 'x').warnings, [], 'a host that says nothing has nothing to warn of');
});
