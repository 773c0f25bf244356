pub mod cel;

pub fn placeholder() {}
