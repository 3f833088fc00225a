/**
 * Hosted VoiceXML applications: a named set of files per tenant (documents, grammars, scripts,
 * audio) that opencx serves over HTTP at /vxml/{tenant}/{app}/{path} for the Media Control
 * Platform, or for any other VoiceXML platform, to fetch. Timestamps in ISO 8601.
 */
export interface VxmlApp {
  id: string;
  tenantId: string;
  /** the tenant's name, as it appears in the served URL */
  tenantName: string;
  /** [a-z0-9-]{1,64}, unique within the tenant */
  name: string;
  description: string;
  /** path of the document a call starts with, default "main.vxml" */
  entry: string;
  fileCount: number;
  /** sum of the files' sizes */
  totalBytes: number;
  createdAt: string;
  updatedAt: string;
}

export interface NewVxmlApp {
  name: string;
  description?: string | undefined;
  entry?: string | undefined;
}

export interface VxmlAppChanges {
  description?: string | undefined;
  entry?: string | undefined;
}

/** One file of an application, without its content. */
export interface VxmlAppFile {
  path: string;
  contentType: string;
  size: number;
  /** SHA-256 of the content, hexadecimal (the HTTP ETag is this in double quotes) */
  etag: string;
  createdAt: string;
  updatedAt: string;
}

export interface VxmlAppFileContent extends VxmlAppFile {
  content: Buffer;
}

/** The change notice on VXML_APPS_CHANGED_TOPIC: a cache of served files drops what it names. */
export interface VxmlAppChange {
  action: 'created' | 'updated' | 'deleted';
  tenantId: string;
  /** the application's name */
  app: string;
  /** set when one file changed; absent when the application itself (and so every file) did */
  path?: string;
}

export const VXML_APPS_CHANGED_TOPIC = 'vxml-apps.changed';

export const VXML_APP_NAME_PATTERN = /^[a-z0-9-]{1,64}$/;
export const VXML_APP_DESCRIPTION_MAX = 1000;
export const VXML_FILE_PATH_MAX = 256;
/** 10 MiB per file */
export const VXML_FILE_MAX_BYTES = 10 * 1024 * 1024;
/** 100 MiB per application */
export const VXML_APP_MAX_BYTES = 100 * 1024 * 1024;
export const DEFAULT_VXML_ENTRY = 'main.vxml';

/**
 * The content type each accepted extension is served with. Only these are accepted: nothing
 * that a browser would render as active content (HTML, SVG) can be hosted under opencx's origin.
 */
export const VXML_CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.vxml': 'application/voicexml+xml',
  '.grxml': 'application/srgs+xml',
  '.gram': 'application/srgs',
  '.js': 'application/javascript',
  '.wav': 'audio/x-wav',
  '.ssml': 'application/ssml+xml',
  '.xml': 'text/xml',
  '.json': 'application/json',
  '.txt': 'text/plain',
};
