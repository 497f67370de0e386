//! The store conformance suite on SQLite and on PostgreSQL (when `KNOGIN_TEST_POSTGRES_URL` is set).

mod sqlite {
    knogin_core::store_conformance_tests!(async {
        Some(knogin_store_sqlx::testing::sqlite().await)
    });
}

mod postgres {
    knogin_core::store_conformance_tests!(knogin_store_sqlx::testing::postgres());
}
