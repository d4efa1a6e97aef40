//! Two replicas on one PostgreSQL store.
