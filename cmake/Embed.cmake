# cp_embed(<target> <symbol> <file>): links the bytes of <file> into <target> as
#   extern const char <symbol>_begin[], <symbol>_end[];
# via the assembler's .incbin, so large data files cost nothing at compile time.
function(cp_embed target symbol file)
  get_filename_component(abs "${file}" ABSOLUTE)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/embed_${symbol}.S")
  file(WRITE "${out}.in"
"    .section .rodata
    .global ${symbol}_begin
    .global ${symbol}_end
    .balign 16
${symbol}_begin:
    .incbin \"${abs}\"
${symbol}_end:
    .byte 0
    .section .note.GNU-stack,\"\",@progbits
")
  configure_file("${out}.in" "${out}" COPYONLY)
  set_source_files_properties("${out}" PROPERTIES OBJECT_DEPENDS "${abs}")
  target_sources(${target} PRIVATE "${out}")
endfunction()
