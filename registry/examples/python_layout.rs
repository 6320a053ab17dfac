//! Prints the registry layout as the gdb helpers' Python module
//! (`gdb-scripts/switchyard/layout.py`).

fn main() {
    let mut text = String::new();
    switchyard_registry_layout::write_python_layout(&mut text).expect("writing to a String");
    print!("{text}");
}
