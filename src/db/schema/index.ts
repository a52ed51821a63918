/** The whole schema; drizzle-kit generates migrations from these exports. */
export * from './users';
export * from './sessions';
export * from './posts';
export * from './subscriptions';
export * from './notifications';
export * from './contacts';
export * from './outbox';
export * from './notices';
export * from './moderation';
export * from './verification';
export * from './translations';
export * from './posters';
export * from './web';
export * from './channels';
