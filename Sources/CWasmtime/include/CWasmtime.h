#ifndef TWOCVM_CWASMTIME_H
#define TWOCVM_CWASMTIME_H

// The part of wasmtime's C API (version 50) that twocvm's compiling engine uses, declared by
// the project itself: opaque handles, the few value layouts it reads or writes, and a table of
// function pointers filled at run time from the pinned library (dlopen/dlsym), so that nothing
// links against wasmtime at build time. Layouts are valid for exactly the library whose
// SHA-256 the Sandbox target pins (WasmtimeLibrary.pinnedDigest); any other file is refused
// before these declarations are used. Sources: wasmtime's public headers
// (crates/c-api/include/, v50) and the wheel's generated bindings.

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wasm_config_t wasm_config_t;
typedef struct wasm_engine_t wasm_engine_t;
typedef struct wasm_trap_t wasm_trap_t;
typedef struct wasm_valtype_t wasm_valtype_t;
typedef struct wasm_functype_t wasm_functype_t;
typedef struct wasmtime_error_t wasmtime_error_t;
typedef struct wasmtime_module_t wasmtime_module_t;
typedef struct wasmtime_store_t wasmtime_store_t;
typedef struct wasmtime_context_t wasmtime_context_t;
typedef struct wasmtime_linker_t wasmtime_linker_t;
typedef struct wasmtime_caller_t wasmtime_caller_t;
typedef struct wasmtime_call_future_t wasmtime_call_future_t;

/// `wasm_byte_vec_t` (also `wasm_name_t`, `wasm_message_t`).
typedef struct {
    size_t size;
    uint8_t *data;
} twocvm_wasm_byte_vec;

/// `wasm_valtype_vec_t`.
typedef struct {
    size_t size;
    wasm_valtype_t **data;
} twocvm_wasm_valtype_vec;

/// `wasmtime_func_t`: a store id and a private index.
typedef struct {
    uint64_t store_id;
    void *private_index;
} twocvm_wasmtime_func;

/// `wasmtime_memory_t`: a store id, a private index, and a second private word.
typedef struct {
    struct {
        uint64_t store_id;
        uint32_t private1;
    } anon;
    uint32_t private2;
} twocvm_wasmtime_memory;

/// `wasmtime_instance_t`.
typedef struct {
    uint64_t store_id;
    size_t private_index;
} twocvm_wasmtime_instance;

/// `wasmtime_extern_t`: a kind byte, then a union whose largest members (global, table,
/// memory, tag) are 24 bytes.
typedef struct {
    uint8_t kind;
    union {
        twocvm_wasmtime_func func;
        twocvm_wasmtime_memory memory;
        uint8_t largest[24];
    } of;
} twocvm_wasmtime_extern;

/// `wasmtime_val_raw_t`: 16 bytes per value (the size of a v128).
typedef union {
    int32_t i32;
    int64_t i64;
    uint8_t v128[16];
} twocvm_wasmtime_val_raw;

enum {
    TWOCVM_WASM_I32 = 0,
    TWOCVM_WASM_I64 = 1,
    TWOCVM_WASMTIME_EXTERN_FUNC = 0,
    TWOCVM_WASMTIME_EXTERN_MEMORY = 3,
    TWOCVM_WASMTIME_TRAP_STACK_OVERFLOW = 0,
    TWOCVM_WASMTIME_TRAP_OUT_OF_FUEL = 11,
};

/// `wasmtime_func_unchecked_callback_t`: returns NULL, or a trap that ends the call.
typedef wasm_trap_t *(*twocvm_wasmtime_unchecked_callback)(void *env, wasmtime_caller_t *caller,
                                                           twocvm_wasmtime_val_raw *args_and_results,
                                                           size_t count);
typedef void (*twocvm_wasmtime_finalizer)(void *);

/// Every function twocvm calls, resolved by name from the library.
typedef struct {
    wasm_config_t *(*wasm_config_new)(void);
    void (*wasmtime_config_consume_fuel_set)(wasm_config_t *, bool);
    void (*wasmtime_config_max_wasm_stack_set)(wasm_config_t *, size_t);
    void (*wasmtime_config_parallel_compilation_set)(wasm_config_t *, bool);
    void (*wasmtime_config_wasm_threads_set)(wasm_config_t *, bool);
    void (*wasmtime_config_wasm_memory64_set)(wasm_config_t *, bool);
    void (*wasmtime_config_wasm_multi_memory_set)(wasm_config_t *, bool);
    void (*wasmtime_config_memory_init_cow_set)(wasm_config_t *, bool);
    void (*wasmtime_config_async_stack_size_set)(wasm_config_t *, size_t);
    wasm_engine_t *(*wasm_engine_new_with_config)(wasm_config_t *);
    void (*wasm_engine_delete)(wasm_engine_t *);

    wasmtime_error_t *(*wasmtime_module_validate)(wasm_engine_t *, const uint8_t *, size_t);
    wasmtime_error_t *(*wasmtime_module_new)(wasm_engine_t *, const uint8_t *, size_t, wasmtime_module_t **);
    void (*wasmtime_module_delete)(wasmtime_module_t *);
    wasmtime_error_t *(*wasmtime_module_serialize)(wasmtime_module_t *, twocvm_wasm_byte_vec *);
    wasmtime_error_t *(*wasmtime_module_deserialize)(wasm_engine_t *, const uint8_t *, size_t, wasmtime_module_t **);

    wasmtime_store_t *(*wasmtime_store_new)(wasm_engine_t *, void *, twocvm_wasmtime_finalizer);
    wasmtime_context_t *(*wasmtime_store_context)(wasmtime_store_t *);
    void (*wasmtime_store_limiter)(wasmtime_store_t *, int64_t, int64_t, int64_t, int64_t, int64_t);
    void (*wasmtime_store_delete)(wasmtime_store_t *);
    wasmtime_error_t *(*wasmtime_context_set_fuel)(wasmtime_context_t *, uint64_t);
    wasmtime_error_t *(*wasmtime_context_get_fuel)(const wasmtime_context_t *, uint64_t *);
    wasmtime_error_t *(*wasmtime_context_fuel_async_yield_interval)(wasmtime_context_t *, uint64_t);

    wasm_valtype_t *(*wasm_valtype_new)(uint8_t);
    void (*wasm_valtype_vec_new)(twocvm_wasm_valtype_vec *, size_t, wasm_valtype_t *const *);
    wasm_functype_t *(*wasm_functype_new)(twocvm_wasm_valtype_vec *, twocvm_wasm_valtype_vec *);
    void (*wasm_functype_delete)(wasm_functype_t *);

    wasmtime_linker_t *(*wasmtime_linker_new)(wasm_engine_t *);
    void (*wasmtime_linker_delete)(wasmtime_linker_t *);
    wasmtime_error_t *(*wasmtime_linker_define_func_unchecked)(wasmtime_linker_t *, const char *, size_t, const char *,
                                                               size_t, const wasm_functype_t *,
                                                               twocvm_wasmtime_unchecked_callback, void *,
                                                               twocvm_wasmtime_finalizer);
    bool (*wasmtime_instance_export_get)(wasmtime_context_t *, const twocvm_wasmtime_instance *, const char *, size_t,
                                         twocvm_wasmtime_extern *);
    bool (*wasmtime_caller_export_get)(wasmtime_caller_t *, const char *, size_t, twocvm_wasmtime_extern *);
    wasmtime_context_t *(*wasmtime_caller_context)(wasmtime_caller_t *);
    uint8_t *(*wasmtime_memory_data)(const wasmtime_context_t *, const twocvm_wasmtime_memory *);
    size_t (*wasmtime_memory_data_size)(const wasmtime_context_t *, const twocvm_wasmtime_memory *);
    wasmtime_call_future_t *(*wasmtime_linker_instantiate_async)(const wasmtime_linker_t *, wasmtime_context_t *,
                                                                 const wasmtime_module_t *, twocvm_wasmtime_instance *,
                                                                 wasm_trap_t **, wasmtime_error_t **);
    wasmtime_call_future_t *(*wasmtime_func_call_async)(wasmtime_context_t *, const twocvm_wasmtime_func *, const void *,
                                                        size_t, void *, size_t, wasm_trap_t **, wasmtime_error_t **);
    bool (*wasmtime_call_future_poll)(wasmtime_call_future_t *);
    void (*wasmtime_call_future_delete)(wasmtime_call_future_t *);

    wasm_trap_t *(*wasmtime_trap_new)(const char *, size_t);
    bool (*wasmtime_trap_code)(const wasm_trap_t *, uint8_t *);
    void (*wasm_trap_message)(const wasm_trap_t *, twocvm_wasm_byte_vec *);
    void (*wasm_trap_delete)(wasm_trap_t *);
    void (*wasmtime_error_message)(const wasmtime_error_t *, twocvm_wasm_byte_vec *);
    void (*wasmtime_error_delete)(wasmtime_error_t *);
    void (*wasm_byte_vec_delete)(twocvm_wasm_byte_vec *);
} twocvm_wasmtime_api;

/// Opens the library at `path` (RTLD_NOW | RTLD_LOCAL) and resolves every entry of `api`.
/// Returns the dlopen handle, or NULL with `*missing` set to the symbol that was not found
/// (or NULL when the library itself did not load; dlerror() then says why).
void *twocvm_wasmtime_open(const char *path, twocvm_wasmtime_api *api, const char **missing);

#endif
