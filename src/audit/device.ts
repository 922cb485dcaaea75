import Bowser from 'bowser';

export interface Device {
  /** e.g. "Firefox 128", "Safari 17" */
  browser?: string;
  /** e.g. "Linux", "iOS 17.5", "Windows 10" */
  os?: string;
  /** The User-Agent as sent, when no browser could be recognised in it (a script, a command-line client). */
  raw?: string;
}

/** What a person would call the device of a stored User-Agent header (bowser's parser). */
export function deviceOf(userAgent: string | undefined): Device | undefined {
  if (!userAgent) return undefined;
  const { browser, os } = Bowser.parse(userAgent);
  const major = browser.version?.split('.')[0];
  const device: Device = {};
  if (browser.name) device.browser = major ? `${browser.name} ${major}` : browser.name;
  const osVersion = os.versionName ?? os.version;
  if (os.name) device.os = osVersion && !osVersion.startsWith('NT') ? `${os.name} ${osVersion}` : os.name;
  if (!device.browser && !device.os) device.raw = userAgent.slice(0, 80);
  return device;
}
