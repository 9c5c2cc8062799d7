// Resolves twocvm_wasmtime_api from the pinned wasmtime library (see CWasmtime.h).
#define _GNU_SOURCE
#include "CWasmtime.h"

#include <dlfcn.h>

#define RESOLVE(name)                                        \
    do {                                                     \
        *(void **)(&api->name) = dlsym(handle, #name);       \
        if (api->name == NULL) {                             \
            *missing = #name;                                \
            dlclose(handle);                                 \
            return NULL;                                     \
        }                                                    \
    } while (0)

void *twocvm_wasmtime_open(const char *path, twocvm_wasmtime_api *api, const char **missing) {
    *missing = NULL;
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) return NULL;
    RESOLVE(wasm_config_new);
    RESOLVE(wasmtime_config_consume_fuel_set);
    RESOLVE(wasmtime_config_max_wasm_stack_set);
    RESOLVE(wasmtime_config_parallel_compilation_set);
    RESOLVE(wasmtime_config_wasm_threads_set);
    RESOLVE(wasmtime_config_wasm_memory64_set);
    RESOLVE(wasmtime_config_wasm_multi_memory_set);
    RESOLVE(wasmtime_config_memory_init_cow_set);
    RESOLVE(wasmtime_config_async_stack_size_set);
    RESOLVE(wasm_engine_new_with_config);
    RESOLVE(wasm_engine_delete);
    RESOLVE(wasmtime_module_validate);
    RESOLVE(wasmtime_module_new);
    RESOLVE(wasmtime_module_delete);
    RESOLVE(wasmtime_module_serialize);
    RESOLVE(wasmtime_module_deserialize);
    RESOLVE(wasmtime_store_new);
    RESOLVE(wasmtime_store_context);
    RESOLVE(wasmtime_store_limiter);
    RESOLVE(wasmtime_store_delete);
    RESOLVE(wasmtime_context_set_fuel);
    RESOLVE(wasmtime_context_get_fuel);
    RESOLVE(wasmtime_context_fuel_async_yield_interval);
    RESOLVE(wasm_valtype_new);
    RESOLVE(wasm_valtype_vec_new);
    RESOLVE(wasm_functype_new);
    RESOLVE(wasm_functype_delete);
    RESOLVE(wasmtime_linker_new);
    RESOLVE(wasmtime_linker_delete);
    RESOLVE(wasmtime_linker_define_func_unchecked);
    RESOLVE(wasmtime_instance_export_get);
    RESOLVE(wasmtime_caller_export_get);
    RESOLVE(wasmtime_caller_context);
    RESOLVE(wasmtime_memory_data);
    RESOLVE(wasmtime_memory_data_size);
    RESOLVE(wasmtime_linker_instantiate_async);
    RESOLVE(wasmtime_func_call_async);
    RESOLVE(wasmtime_call_future_poll);
    RESOLVE(wasmtime_call_future_delete);
    RESOLVE(wasmtime_trap_new);
    RESOLVE(wasmtime_trap_code);
    RESOLVE(wasm_trap_message);
    RESOLVE(wasm_trap_delete);
    RESOLVE(wasmtime_error_message);
    RESOLVE(wasmtime_error_delete);
    RESOLVE(wasm_byte_vec_delete);
    return handle;
}
